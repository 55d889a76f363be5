"""Drives a simulator playing vCD 10.3 or 10.4 with pyvcloud 23.0.4 and
vcd-cli 24.1.0 on the modern path: the clients negotiate API 36.0, log in
at /cloudapi/1.0.0/sessions[/provider], re-hydrate the JWT as Bearer on
GET /api/session and use it for every later call (org, VDC, catalog and
vApp listing, a typed query), then log out.

Environment: VCD_HOST (as given to `vcd login`), VCD_URL (for pyvcloud),
TENANT_ORG, TENANT_USER, TENANT_PASSWORD, SYS_PASSWORD, EXPECT_VAPP,
EXPECT_VERSION. Exits non-zero with a message on the first failure.
"""

import os
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

from pyvcloud.vcd.client import (  # noqa: E402
    BasicLoginCredentials, Client, QueryResultFormat, ResourceType)
from pyvcloud.vcd.exceptions import VcdException  # noqa: E402
from pyvcloud.vcd.org import Org  # noqa: E402
from pyvcloud.vcd.vdc import VDC  # noqa: E402


def fail(msg):
    print("FAILED: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


env = os.environ
url = env["VCD_URL"]
org_name = env["TENANT_ORG"]
expect_vapp = env["EXPECT_VAPP"]
expect_version = env["EXPECT_VERSION"]

# --- pyvcloud ---------------------------------------------------------------
log = tempfile.NamedTemporaryFile(suffix=".log", delete=False).name
client = Client(url, verify_ssl_certs=False, log_file=log)
client.set_credentials(BasicLoginCredentials(env["TENANT_USER"], org_name, env["TENANT_PASSWORD"]))
check(client.get_api_version() == expect_version, "negotiated API version is %s" % client.get_api_version())
jwt = client._vcloud_access_token
check(jwt is not None and jwt.count(".") == 2, "the session is a JWT session")
orgs = [o.get("name") for o in client.get_org_list()]
check(orgs == [org_name], "tenant org list %s" % orgs)
org = Org(client, resource=client.get_org())
vdcs = [v["name"] for v in org.list_vdcs()]
check(vdcs == ["vdc1"], "VDCs through the org's query link %s" % vdcs)
catalogs = [c["name"] for c in org.list_catalogs()]
check("cse" in catalogs, "catalogs %s" % catalogs)
check(org.get_catalog("cse").get("name") == "cse", "catalog by name through the query link")
vdc = VDC(client, resource=org.get_vdc("vdc1"))
resources = [r["name"] for r in vdc.list_resources()]
check(expect_vapp in resources, "VDC resources %s" % resources)
q = client.get_typed_query(ResourceType.VAPP.value, query_result_format=QueryResultFormat.RECORDS,
                           equality_filter=("name", expect_vapp))
records = list(q.execute())
check(len(records) == 1 and records[0].get("name") == expect_vapp, "vApp query %d records" % len(records))
client.logout()
stale = Client(url, api_version=expect_version, verify_ssl_certs=False, log_file=log)
try:
    stale.rehydrate_from_token(jwt, is_jwt_token=True)
    fail("the JWT still works after logout")
except VcdException:
    pass
print("pyvcloud tenant: version=%s orgs=%s vdcs=%s catalogs=%s resources=%s"
      % (expect_version, orgs, vdcs, catalogs, resources))

sysadmin = Client(url, verify_ssl_certs=False, log_file=log)
sysadmin.set_credentials(BasicLoginCredentials("administrator", "System", env["SYS_PASSWORD"]))
check(sysadmin.is_sysadmin(), "System login is sysadmin")
all_orgs = sorted(o.get("name") for o in sysadmin.get_org_list())
check(all_orgs == sorted(["System", "acme", "beta"]), "sysadmin org list %s" % all_orgs)
print("pyvcloud provider: orgs=%s" % all_orgs)
sysadmin.logout()

# --- vcd-cli ----------------------------------------------------------------
vcd = os.path.join(os.path.dirname(sys.executable), "vcd")
home = tempfile.mkdtemp()
cli_env = dict(env, HOME=home)


def run(*args):
    p = subprocess.run([vcd] + list(args), env=cli_env, cwd=home, capture_output=True, text=True, timeout=120)
    out = p.stdout + p.stderr
    print("$ vcd %s\n%s" % (" ".join(a if a != env["TENANT_PASSWORD"] else "***" for a in args), out))
    check(p.returncode == 0, "vcd %s exited %d" % (args[0], p.returncode))
    return out


out = run("login", env["VCD_HOST"], org_name, env["TENANT_USER"], "-p", env["TENANT_PASSWORD"], "-i", "-w")
check("logged in" in out and "vdc: 'vdc1'" in out, "login output")
profile = open(os.path.join(home, ".vcd-cli", "profiles.yaml")).read()
check("is_jwt_token: true" in profile, "vcd-cli stored a JWT session")
check("api_version: '%s'" % expect_version in profile, "vcd-cli profile version")
out = run("org", "list")
check(org_name in out, "org list shows the org")
out = run("vdc", "list")
check("vdc1" in out, "vdc list shows vdc1")
out = run("catalog", "list")
check("cse" in out, "catalog list shows cse")
out = run("vapp", "list")
check(expect_vapp in out, "vapp list shows the vApp")
run("logout")
print("vcd-cli: ok")
