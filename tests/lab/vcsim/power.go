// Power operations of lab VMs: the simulator's, followed by an update of what
// VMware Tools report; ShutdownGuest needs running tools, as on vSphere.

package main

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func (w *labVM) PowerOnVMTask(ctx *simulator.Context, req *types.PowerOnVM_Task) soap.HasFault {
	res := w.VirtualMachine.PowerOnVMTask(ctx, req)
	w.applyToolsState()
	return res
}

func (w *labVM) PowerOffVMTask(ctx *simulator.Context, req *types.PowerOffVM_Task) soap.HasFault {
	res := w.VirtualMachine.PowerOffVMTask(ctx, req)
	w.applyToolsState()
	return res
}

func (w *labVM) SuspendVMTask(ctx *simulator.Context, req *types.SuspendVM_Task) soap.HasFault {
	res := w.VirtualMachine.SuspendVMTask(ctx, req)
	w.applyToolsState()
	return res
}

func (w *labVM) ResetVMTask(ctx *simulator.Context, req *types.ResetVM_Task) soap.HasFault {
	res := w.VirtualMachine.ResetVMTask(ctx, req)
	w.applyToolsState()
	return res
}

func (w *labVM) ShutdownGuest(ctx *simulator.Context, req *types.ShutdownGuest) soap.HasFault {
	if w.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn &&
		w.Guest.ToolsRunningStatus != string(types.VirtualMachineToolsRunningStatusGuestToolsRunning) {
		return &methods.ShutdownGuestBody{
			Fault_: simulator.Fault("Cannot complete operation because VMware Tools is not running in this virtual machine.", &types.ToolsUnavailable{}),
		}
	}
	res := w.VirtualMachine.ShutdownGuest(ctx, req)
	w.applyToolsState()
	return res
}
