"""Drives vcd-sim's simulated vCenter with an unmodified pyVmomi, as a new user would.

Usage: python pyvmomi_guest_ops.py HOST PORT USER PASSWORD VM GUEST_PASSWORD

VM is the VM's name in vCenter, or `moref:vm-N` to take the VM by its managed-object id
(what vCD shows in its VCloudExtension) and check the container view lists it.

Runs under pyVmomi 6.7.1 (RetrievePropertiesEx) and 9.x (Fetch, vimServiceVersions.xml):
connect with an unverified TLS context, find the VM through a container view, read its
state, upload a script, run it and poll until it exits, download files, provoke the
faults a user meets, and log out. Prints one line per step; exits non-zero on the first
failed expectation.
"""

import importlib.metadata
import ssl
import sys
import time
import urllib.error
import urllib.request

from pyVim.connect import Disconnect, SmartConnect
from pyVmomi import vim, vmodl

HOST, PORT, USER, PASSWORD, VM_NAME, GUEST_PASSWORD = sys.argv[1:7]
PORT = int(PORT)
CONTEXT = ssl._create_unverified_context()
SCRIPT = b"#!/usr/bin/env bash\nuname -a\necho 'caf\xc3\xa9 & <tags>'\n"


def step(name, ok=True):
    if not ok:
        print("FAIL " + name, flush=True)
        sys.exit(1)
    print("ok " + name, flush=True)


def expect_fault(name, fault_class, call):
    try:
        call()
    except fault_class as fault:
        step("%s raises %s (%s)" % (name, fault_class.__name__, fault.msg))
        return fault
    except Exception as other:  # noqa: BLE001 - report what came instead
        print("FAIL %s raised %r instead of %s" % (name, other, fault_class.__name__), flush=True)
        sys.exit(1)
    step("%s raised nothing, expected %s" % (name, fault_class.__name__), ok=False)


def http(method, url, body=None):
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, context=CONTEXT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


print("pyvmomi " + importlib.metadata.version("pyvmomi"), flush=True)
si = SmartConnect(host=HOST, port=PORT, user=USER, pwd=PASSWORD, sslContext=CONTEXT)
content = si.RetrieveContent()
step("connected to %s API %s" % (content.about.apiType, content.about.apiVersion),
     content.about.apiType == "VirtualCenter" and content.about.apiVersion == "6.7.1")
session = content.sessionManager.currentSession
step("current session is %s from %s" % (session.userName, session.ipAddress),
     session.userName == USER and session.ipAddress == "127.0.0.1"
     and session.userAgent.startswith("pyvmomi"))

view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
listed = list(view.view)
view.Destroy()
if VM_NAME.startswith("moref:"):
    MOREF = VM_NAME[len("moref:"):]
    vm = vim.VirtualMachine(MOREF, si._stub)
    step("container view lists %s" % sorted(v._moId for v in listed),
         MOREF in [v._moId for v in listed])
    step("moref %s is VM %s" % (MOREF, vm.name), vm.name in [v.name for v in listed])
else:
    vms = {v.name: v for v in listed}
    step("container view lists %s" % sorted(vms), VM_NAME in vms)
    vm = vms[VM_NAME]

deadline = time.time() + 10
while vm.guest.toolsRunningStatus != "guestToolsRunning":
    step("tools running before the deadline", time.time() < deadline)
    time.sleep(0.2)
step("tools running, power %s, IP %s" % (vm.runtime.powerState, vm.guest.ipAddress),
     vm.runtime.powerState == "poweredOn" and vm.guest.guestOperationsReady)
step("toolsStatus enum %s" % vm.guest.toolsStatus, vm.guest.toolsStatus == "toolsOk")
summary = vm.summary
step("summary: %s at %s, heartbeat %s" % (summary.config.name, summary.guest.ipAddress,
                                           summary.quickStats.guestHeartbeatStatus),
     summary.vm._moId == vm._moId and summary.runtime.powerState == "poweredOn"
     and summary.guest.ipAddress == vm.guest.ipAddress
     and summary.config.instanceUuid == vm.config.instanceUuid)
found = content.searchIndex.FindByIp(None, vm.guest.ipAddress, True)
step("FindByIp finds %s" % found, found is not None and found._moId == vm._moId)

gom = content.guestOperationsManager
pm, fm = gom.processManager, gom.fileManager
creds = vim.vm.guest.NamePasswordAuthentication(username="root", password=GUEST_PASSWORD)
gom.authManager.ValidateCredentialsInGuest(vm, creds)
step("credentials valid")

url = fm.InitiateFileTransferToGuest(vm, creds, "/tmp/probe.sh",
                                     vim.vm.guest.FileManager.FileAttributes(), len(SCRIPT), False)
step("upload URL " + url, url.startswith("https://%s:%d/" % (HOST, PORT)))
status, _ = http("PUT", url, SCRIPT)
step("PUT answers %d" % status, status == 200)
status, _ = http("PUT", url, SCRIPT)
step("second PUT on the same URL answers %d" % status, status == 404)

chmod = pm.StartProgramInGuest(vm, creds, vim.vm.guest.ProcessManager.ProgramSpec(
    programPath="/bin/chmod", arguments="u+rx /tmp/probe.sh"))
args = " > /tmp/probe.out 2> /tmp/probe.err"
pid = pm.StartProgramInGuest(vm, creds, vim.vm.guest.ProcessManager.ProgramSpec(
    programPath="/tmp/probe.sh", arguments=args))
step("started chmod pid %d and script pid %d" % (chmod, pid), pid > chmod > 0)
deadline = time.time() + 10
while True:
    processes = pm.ListProcessesInGuest(vm, creds, [pid])
    step("process %d listed" % pid, len(processes) == 1 and processes[0].pid == pid)
    if processes[0].exitCode is not None:
        break
    step("script exits before the deadline", time.time() < deadline)
    time.sleep(0.2)
process = processes[0]
step("script exited with %d at %s" % (process.exitCode, process.endTime),
     process.exitCode == 0 and process.endTime is not None)
step("command line %r" % process.cmdLine, process.cmdLine.rstrip().endswith(args.strip()))
step("unknown pids are left out", pm.ListProcessesInGuest(vm, creds, [999999]) == [])
step("all processes listed", len(pm.ListProcessesInGuest(vm, creds)) >= 2)

info = fm.InitiateFileTransferFromGuest(vm, creds, "/tmp/probe.sh")
step("download info size %d, mode %o" % (info.size, info.attributes.permissions),
     info.size == len(SCRIPT)
     and isinstance(info.attributes, vim.vm.guest.FileManager.PosixFileAttributes))
status, body = http("GET", info.url)
step("GET answers %d with the uploaded bytes" % status, status == 200 and body == SCRIPT)

info = fm.InitiateFileTransferFromGuest(vm, creds, "/tmp/probe.out")
status, body = http("GET", info.url)
# A fake guest prints only the echo; a modelled one prints `uname -a` first.
lines = body.decode().splitlines()
step("script output %r" % body,
     status == 200 and lines[-1] == "café & <tags>"
     and (len(lines) == 1 or (len(lines) == 2 and lines[0].startswith("Linux "))))

fm.MakeDirectoryInGuest(vm, creds, "/tmp/a/b", True)
step("made /tmp/a/b")
fm.DeleteFileInGuest(vm, creds, "/tmp/probe.sh")
step("deleted /tmp/probe.sh")

fault = expect_fault("download of a missing file", vim.fault.FileNotFound,
                     lambda: fm.InitiateFileTransferFromGuest(vm, creds, "/tmp/probe.sh"))
step("FileNotFound names the file", fault.file == "/tmp/probe.sh")
expect_fault("upload over a directory", vim.fault.NotAFile,
             lambda: fm.InitiateFileTransferToGuest(vm, creds, "/tmp/a",
                                                    vim.vm.guest.FileManager.FileAttributes(), 1, True))
expect_fault("mkdir of an existing directory", vim.fault.FileAlreadyExists,
             lambda: fm.MakeDirectoryInGuest(vm, creds, "/tmp/a", False))
bad = vim.vm.guest.NamePasswordAuthentication(username="root", password="wrong")
fault = expect_fault("wrong guest password", vim.fault.InvalidGuestLogin,
                     lambda: pm.ListProcessesInGuest(vm, bad, [pid]))
step("InvalidGuestLogin message", fault.msg.startswith("Failed to authenticate with the guest"))
fault = expect_fault("terminate of an unknown pid", vim.fault.GuestProcessNotFound,
                     lambda: pm.TerminateProcessInGuest(vm, creds, 999999))
step("GuestProcessNotFound carries the pid", fault.pid == 999999)
missing = vim.VirtualMachine("vm-9999", si._stub)
expect_fault("a VM that does not exist", vmodl.fault.ManagedObjectNotFound,
             lambda: missing.guest)

Disconnect(si)
step("logged out")
print("PYVMOMI-GUEST-OPS-PASSED", flush=True)
