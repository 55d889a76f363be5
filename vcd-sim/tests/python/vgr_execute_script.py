"""Runs CSE 1.2.x's guest-script path, unmodified vsphere-guest-run 0.0.7, against vcd-sim.

Usage: python vgr_execute_script.py HOST PORT USER PASSWORD VM_MOREF GUEST_PASSWORD [TOOL_READS]

TOOL_READS, when given, is the number of tools-state reads expected before tools run.

vsphere-guest-run never passes a port to SmartConnect (it always dials 443), so this
script supplies the port with the documented last-resort shim; nothing else is changed.
It waits for VMware Tools, runs the readiness probe CSE runs (`uname -a` through the
full upload → chmod → run → poll → download → rm → delete cycle) and downloads a
missing kubeconfig, which must raise FileNotFound.
"""

import functools
import sys
import time

START = time.time()

from pyVim import connect

HOST, PORT, USER, PASSWORD, MOREF, GUEST_PASSWORD = sys.argv[1:7]
TOOL_READS = int(sys.argv[7]) if len(sys.argv) > 7 else None
connect.SmartConnect = functools.partial(connect.SmartConnect, port=int(PORT))

from pyVmomi import vim  # noqa: E402
from vsphere_guest_run.vsphere import VSphere  # noqa: E402

PROBE = "#!/usr/bin/env bash\nuname -a\necho 'probe-ok'\n"
messages = []


def callback(message, exception=None):
    messages.append(message if exception is None else "%s: %r" % (message, exception))


def check(name, ok):
    print("%s %s (%.2f s)" % ("ok" if ok else "FAIL", name, time.time() - START), flush=True)
    if not ok:
        print("\n".join(messages), flush=True)
        sys.exit(1)


vs = VSphere(HOST, USER, PASSWORD, verify=False)
vs.connect()
vm = vs.get_vm_by_moid(MOREF)
vs.wait_until_tools_ready(vm, sleep=0.1, callback=callback)
check("tools ready after %d reads: %s" % (len(messages), messages),
      (TOOL_READS is None or len(messages) == TOOL_READS)
      and messages[-1].endswith("guestToolsRunning"))

result = vs.execute_script_in_guest(vm, "root", GUEST_PASSWORD, PROBE,
                                    wait_for_completion=True, wait_time=0.1,
                                    get_output=True, delete_script=True, callback=callback)
exit_code, stdout, stderr = result
check("probe exit code %s" % exit_code, exit_code == 0)
check("stdout %r" % stdout.content, stdout.status_code == 200
      and stdout.content.decode().endswith("probe-ok\n"))
check("stderr empty", stderr.status_code == 200 and stderr.content == b"")

pid = vs.execute_program_in_guest(vm, "root", GUEST_PASSWORD,
                                  '/bin/echo "root:new-password" | chpasswd',
                                  wait_for_completion=False, get_output=False)
check("fire-and-forget pid %s" % pid, len(pid) == 1 and pid[0] > 0)

try:
    vs.download_file_from_guest(vm, "root", GUEST_PASSWORD, "/root/.kube/config")
    check("missing kubeconfig raised FileNotFound", False)
except vim.fault.FileNotFound as fault:
    check("missing kubeconfig raises FileNotFound for %s" % fault.file, fault.file == "/root/.kube/config")

print("VGR-EXECUTE-SCRIPT-PASSED", flush=True)
