"""Drives `vcd-sim serve` with the real third-party clients of the era:
pyvcloud 23.0.4 (Client login, get_org_list, Org.list_catalogs,
VDC.list_resources, Org.capture_vapp answering a Task) and vcd-cli 24.1.0
(login -i -w, org/vdc/catalog/vapp list, vapp capture waiting on its Task).

Environment: VCD_HOST (as given to `vcd login`), VCD_URL (for pyvcloud),
TENANT_ORG, TENANT_USER, TENANT_PASSWORD, SYS_PASSWORD, EXPECT_VAPP.
Exits non-zero with a message on the first failure.
"""

import os
import subprocess
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

from pyvcloud.vcd.client import BasicLoginCredentials, Client  # noqa: E402
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

# --- pyvcloud ---------------------------------------------------------------
log = tempfile.NamedTemporaryFile(suffix=".log", delete=False).name
client = Client(url, verify_ssl_certs=False, log_file=log)
client.set_credentials(BasicLoginCredentials(env["TENANT_USER"], org_name, env["TENANT_PASSWORD"]))
check(client.get_api_version() == "32.0", "negotiated API version is %s" % client.get_api_version())
orgs = client.get_org_list()
names = [o.get("name") for o in orgs]
check(names == [org_name], "tenant org list %s" % names)
org = Org(client, resource=client.get_org())
catalogs = [c["name"] for c in org.list_catalogs()]
check("cse" in catalogs, "catalogs %s" % catalogs)
vdc = VDC(client, resource=org.get_vdc("vdc1"))
resources = [r["name"] for r in vdc.list_resources()]
check(expect_vapp in resources, "VDC resources %s" % resources)
# POST-CaptureVApp-catalog answers a Task (202); pyvcloud hands it back as such
task = org.capture_vapp(org.get_catalog("cse"), vdc.get_vapp(expect_vapp).get("href"),
                        expect_vapp + "-py", "captured by pyvcloud", customize_on_instantiate=True)
check(task.tag.endswith("}Task"), "capture answered <%s>" % task.tag)
task = client.get_task_monitor().wait_for_success(task=task)
check(task.get("status") == "success", "capture task ended %s" % task.get("status"))
check(task.Owner.get("type") == "application/vnd.vmware.vcloud.vAppTemplate+xml",
      "capture task owner %s" % task.Owner.get("type"))
items = [i["name"] for i in org.list_catalog_items("cse")]
check(expect_vapp + "-py" in items, "catalog items after capture %s" % items)
client.logout()
print("pyvcloud tenant: orgs=%s catalogs=%s resources=%s" % (names, catalogs, resources))

sysadmin = Client(url, verify_ssl_certs=False, log_file=log)
sysadmin.set_credentials(BasicLoginCredentials("administrator", "System", env["SYS_PASSWORD"]))
check(sysadmin.is_sysadmin(), "System login is sysadmin")
all_orgs = sorted(o.get("name") for o in sysadmin.get_org_list())
check(all_orgs == sorted(["System", "acme", "beta"]), "sysadmin org list %s" % all_orgs)
print("pyvcloud sysadmin: orgs=%s" % all_orgs)
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
out = run("org", "list")
check(org_name in out, "org list shows the org")
out = run("vdc", "list")
check("vdc1" in out, "vdc list shows vdc1")
out = run("catalog", "list")
check("cse" in out, "catalog list shows cse")
out = run("vapp", "list")
check(expect_vapp in out, "vapp list shows the vApp")
# vcd-cli's task printer waits on Task roots only (anything else it prints as a table)
out = run("vapp", "capture", expect_vapp, "cse", "-d", "captured by vcd-cli")
check("result: success" in out and "Capturing" in out, "vapp capture followed its task")
out = run("catalog", "list", "cse")
check(expect_vapp in out, "catalog list shows the captured template")
run("logout")
print("vcd-cli: ok")
