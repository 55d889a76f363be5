"""A pytest suite against `vcd-sim serve --control-api`: pyvcloud talks to
the simulated vCD; plain `requests` calls inject faults, read the clock and
reset the simulator between tests.

The simulator starts from the snapshot in VCD_SIM_SNAPSHOT, which holds a
vApp `web-app` in org `acme` (see README.md for how to make one).
"""

import warnings

import pytest
from pyvcloud.vcd.client import BasicLoginCredentials, Client
from pyvcloud.vcd.exceptions import VcdException
from pyvcloud.vcd.org import Org
from pyvcloud.vcd.vdc import VDC

warnings.filterwarnings("ignore")


def login(sim, user="alice", org="acme", password="alice-pw"):
    client = Client(sim.info["vcd_url"], verify_ssl_certs=False,
                    log_file="/dev/null", log_requests=False, log_headers=False, log_bodies=False)
    client.set_credentials(BasicLoginCredentials(user, org, password))
    return client


def vapp_names(client):
    org = Org(client, resource=client.get_org())
    vdc = VDC(client, resource=org.get_vdc("vdc1"))
    return sorted(r["name"] for r in vdc.list_resources())


def test_the_snapshot_is_loaded(control):
    client = login(control)
    try:
        assert "web-app" in vapp_names(client)
    finally:
        client.logout()


def test_an_injected_fault_is_seen_by_pyvcloud_once(control):
    client = login(control)
    try:
        rule = control.add_fault("vcd", {"method": "GET", "path_contains": "/api/org/"},
                                 effect=503, times=1)
        with pytest.raises(VcdException):
            Org(client, resource=client.get_org())
        # used up: the next call is served
        assert Org(client, resource=client.get_org()).get_name() == "acme"
        listed = {r["id"]: r for r in control.faults()["rules"]}
        assert listed[rule]["hits"] == 1
        assert listed[rule]["remaining"] == 0
    finally:
        client.logout()


def test_bad_rules_are_refused_with_the_field_named(control):
    import requests

    response = control.http.post(control.url + "/faults",
                                 json={"surface": "vcd", "match": {}, "effect": 503, "times": 10**9})
    assert response.status_code == 400
    assert "times" in response.json()["error"]
    unauthorized = requests.get(control.url + "/faults")
    assert unauthorized.status_code == 401


def test_the_clock_can_be_slowed_and_advanced(control):
    assert control.clock(scale=0.5)["scale"] == 0.5
    advanced = control.http.post(control.url + "/clock/advance", json={"by_ms": 60000}).json()
    assert advanced["advanced_ms"] >= 60000
    assert control.clock(scale=0)["scale"] == 0


def test_reset_brings_back_the_starting_state(control):
    client = login(control)
    try:
        org = Org(client, resource=client.get_org())
        vdc = VDC(client, resource=org.get_vdc("vdc1"))
        task = vdc.delete_vapp("web-app", force=True)
        client.get_task_monitor().wait_for_success(task=task)
        assert "web-app" not in vapp_names(client)
    finally:
        client.logout()
    control.reset()
    client = login(control)
    try:
        assert "web-app" in vapp_names(client)
    finally:
        client.logout()
    operations = {(o["surface"], o["operation"]) for o in control.about()["operations"]}
    assert ("vcd", "POST /api/sessions") in operations
