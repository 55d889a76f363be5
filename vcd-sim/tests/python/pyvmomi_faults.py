"""Checks that every fault vcd-sim's vCenter raises reaches pyVmomi as its own class.

Usage: python pyvmomi_faults.py HOST PORT USER PASSWORD VM_MOREF GUEST_PASSWORD

Line protocol with the Rust test: the test injects a fault into ListProcessesInGuest,
then writes one JSON line {"type", "msg", "fields"}; this script calls the method and
answers "ok <type>" or "FAIL <why>". An empty line ends the run.
"""

import json
import ssl
import sys

from pyVim.connect import SmartConnect
from pyVmomi import vim, vmodl

HOST, PORT, USER, PASSWORD, MOREF, GUEST_PASSWORD = sys.argv[1:7]
si = SmartConnect(host=HOST, port=int(PORT), user=USER, pwd=PASSWORD,
                  sslContext=ssl._create_unverified_context())
pm = si.RetrieveContent().guestOperationsManager.processManager
vm = vim.VirtualMachine(MOREF, si._stub)
creds = vim.vm.guest.NamePasswordAuthentication(username="root", password=GUEST_PASSWORD)
print("ready", flush=True)


def field_value(value):
    if hasattr(value, "_moId"):
        return value._moId
    return value


for line in sys.stdin:
    if not line.strip():
        break
    expected = json.loads(line)
    try:
        pm.ListProcessesInGuest(vm, creds)
        print("FAIL %s: no fault raised" % expected["type"], flush=True)
        continue
    except vmodl.MethodFault as fault:
        problems = []
        if fault._wsdlName != expected["type"]:
            problems.append("type %s" % fault._wsdlName)
        if fault.msg != expected["msg"]:
            problems.append("msg %r" % fault.msg)
        for name, value in expected["fields"].items():
            if field_value(getattr(fault, name)) != value:
                problems.append("%s=%r" % (name, getattr(fault, name)))
        if problems:
            print("FAIL %s: %s" % (expected["type"], ", ".join(problems)), flush=True)
        else:
            print("ok %s %s" % (expected["type"], type(fault).__module__ + "." + type(fault).__name__), flush=True)
    except Exception as other:  # noqa: BLE001 - a parse error is what this test looks for
        print("FAIL %s: %r" % (expected["type"], other), flush=True)
