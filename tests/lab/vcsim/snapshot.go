// Snapshots of lab VMs. The simulator's own snapshot code looks VMs up as its
// plain VirtualMachine type, which a lab VM is not, so the lab keeps its own:
// same tree and layout bookkeeping, plus a snapshot config whose disks keep
// the changeIds they had when the snapshot was taken. No delta disks are
// created unless -snapshot-deltas (delta.go): a snapshot's disks name the
// same files as the VM's.

package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// labSnapshot embeds the managed object by value, first, like labVM.
type labSnapshot struct {
	mo.VirtualMachineSnapshot
}

// copyConfig copies a VM config deeply enough that later changes of the VM's
// disks (changeId, backing) do not show through.
func copyConfig(in *types.VirtualMachineConfigInfo) types.VirtualMachineConfigInfo {
	out := *in
	if in.ChangeTrackingEnabled != nil {
		out.ChangeTrackingEnabled = types.NewBool(*in.ChangeTrackingEnabled)
	}
	out.Hardware.Device = make([]types.BaseVirtualDevice, len(in.Hardware.Device))
	for i, dev := range in.Hardware.Device {
		if d, ok := dev.(*types.VirtualDisk); ok {
			c := *d
			if b := flatBacking(d); b != nil {
				bc := *b
				c.Backing = &bc
			}
			out.Hardware.Device[i] = &c
			continue
		}
		out.Hardware.Device[i] = dev
	}
	return out
}

func copyTree(in []types.VirtualMachineSnapshotTree) []types.VirtualMachineSnapshotTree {
	if in == nil {
		return nil
	}
	out := make([]types.VirtualMachineSnapshotTree, len(in))
	for i := range in {
		out[i] = in[i]
		out[i].ChildSnapshotList = copyTree(in[i].ChildSnapshotList)
	}
	return out
}

func findNode(tree []types.VirtualMachineSnapshotTree, ref types.ManagedObjectReference) *types.VirtualMachineSnapshotTree {
	for i := range tree {
		if tree[i].Snapshot == ref {
			return &tree[i]
		}
		if n := findNode(tree[i].ChildSnapshotList, ref); n != nil {
			return n
		}
	}
	return nil
}

// parentOf returns the parent snapshot of ref, nil for a root.
func parentOf(tree []types.VirtualMachineSnapshotTree, ref types.ManagedObjectReference, parent *types.ManagedObjectReference) (*types.ManagedObjectReference, bool) {
	for i := range tree {
		if tree[i].Snapshot == ref {
			return parent, true
		}
		self := tree[i].Snapshot
		if p, ok := parentOf(tree[i].ChildSnapshotList, ref, &self); ok {
			return p, true
		}
	}
	return nil, false
}

func allRefs(tree []types.VirtualMachineSnapshotTree) []types.ManagedObjectReference {
	var out []types.ManagedObjectReference
	for _, n := range tree {
		out = append(out, n.Snapshot)
		out = append(out, allRefs(n.ChildSnapshotList)...)
	}
	return out
}

// removeNode removes ref from the tree; its children move up to its place
// unless removeChildren. It returns the new tree and the removed refs.
func removeNode(tree []types.VirtualMachineSnapshotTree, ref types.ManagedObjectReference, removeChildren bool) ([]types.VirtualMachineSnapshotTree, []types.ManagedObjectReference) {
	var out []types.VirtualMachineSnapshotTree
	var removed []types.ManagedObjectReference
	for _, n := range tree {
		if n.Snapshot == ref {
			removed = append(removed, n.Snapshot)
			if removeChildren {
				removed = append(removed, allRefs(n.ChildSnapshotList)...)
			} else {
				out = append(out, n.ChildSnapshotList...)
			}
			continue
		}
		var r []types.ManagedObjectReference
		n.ChildSnapshotList, r = removeNode(n.ChildSnapshotList, ref, removeChildren)
		removed = append(removed, r...)
		out = append(out, n)
	}
	return out, removed
}

// localPath maps "[ds] dir/file" to the datastore's local file.
func (w *labVM) localPath(dsPath string) (string, bool) {
	var p object.DatastorePath
	if !p.FromString(dsPath) {
		return "", false
	}
	for _, ref := range w.Datastore {
		if ds, ok := simulator.Map.Get(ref).(*simulator.Datastore); ok && ds.Name == p.Datastore {
			return filepath.Join(ds.Info.GetDatastoreInfo().Url, p.Path), true
		}
	}
	return "", false
}

func (w *labVM) CreateSnapshotTask(req *types.CreateSnapshot_Task) soap.HasFault {
	task := simulator.CreateTask(w, "createSnapshot", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		return w.createSnapshot(req)
	})
	return &methods.CreateSnapshot_TaskBody{
		Res: &types.CreateSnapshot_TaskResponse{Returnval: task.Run()},
	}
}

// createSnapshot runs with the VM's lock held (taken by the dispatcher).
func (w *labVM) createSnapshot(req *types.CreateSnapshot_Task) (types.AnyType, types.BaseMethodFault) {
	if req.Name == "" {
		return nil, &types.InvalidArgument{InvalidProperty: "name"}
	}
	pinned := w.refreshChangeIDs()

	snap := &labSnapshot{}
	snap.Self = types.ManagedObjectReference{Type: "VirtualMachineSnapshot"}
	snap.Vm = w.Self
	snap.Config = copyConfig(w.Config)
	if snapshotDeltas {
		if fault := w.addDeltaDisks(); fault != nil {
			return nil, fault
		}
	}
	simulator.Map.Put(snap)

	id := nextSnapshotID()
	node := types.VirtualMachineSnapshotTree{
		Snapshot:        snap.Self,
		Vm:              w.Self,
		Name:            req.Name,
		Description:     req.Description,
		Id:              id,
		CreateTime:      time.Now(),
		State:           w.Runtime.PowerState,
		Quiesced:        req.Quiesce,
		ReplaySupported: types.NewBool(false),
	}

	info := &types.VirtualMachineSnapshotInfo{}
	if w.Snapshot != nil {
		info.RootSnapshotList = copyTree(w.Snapshot.RootSnapshotList)
		if cur := w.Snapshot.CurrentSnapshot; cur != nil {
			if parent := findNode(info.RootSnapshotList, *cur); parent != nil {
				parent.ChildSnapshotList = append(parent.ChildSnapshotList, node)
				if ps, ok := simulator.Map.Get(*cur).(*labSnapshot); ok {
					ps.ChildSnapshot = append(ps.ChildSnapshot, snap.Self)
				}
			} else {
				info.RootSnapshotList = append(info.RootSnapshotList, node)
			}
		} else {
			info.RootSnapshotList = append(info.RootSnapshotList, node)
		}
	} else {
		info.RootSnapshotList = []types.VirtualMachineSnapshotTree{node}
	}
	ref := snap.Self
	info.CurrentSnapshot = &ref

	var roots []types.ManagedObjectReference
	for _, n := range info.RootSnapshotList {
		roots = append(roots, n.Snapshot)
	}

	w.addSnapshotFiles(snap.Self, id)

	simulator.Map.Update(w, []types.PropertyChange{
		{Name: "snapshot", Val: info},
		{Name: "rootSnapshot", Val: roots},
		{Name: "layout", Val: w.Layout},
		{Name: "layoutEx", Val: w.LayoutEx},
	})

	w.advanceChangeIDs(pinned)
	return snap.Self, nil
}

// addSnapshotFiles creates the snapshot's .vmsn file and records it in the
// VM's file layouts.
func (w *labVM) addSnapshotFiles(ref types.ManagedObjectReference, id int32) {
	var vmx object.DatastorePath
	vmx.FromString(w.Config.Files.VmPathName)
	name := path.Join(path.Dir(vmx.Path), fmt.Sprintf("%s-Snapshot%d.vmsn", w.Name, id))
	dsName := (&object.DatastorePath{Datastore: vmx.Datastore, Path: name}).String()
	if local, ok := w.localPath(dsName); ok {
		if f, err := os.Create(local); err == nil {
			_ = f.Close()
		}
	}

	var key int32
	for _, f := range w.LayoutEx.File {
		if f.Key >= key {
			key = f.Key + 1
		}
	}
	w.LayoutEx.File = append(w.LayoutEx.File, types.VirtualMachineFileLayoutExFileInfo{
		Key:        key,
		Name:       dsName,
		Type:       string(types.VirtualMachineFileLayoutExFileTypeSnapshotData),
		Accessible: types.NewBool(true),
	})
	disks := make([]types.VirtualMachineFileLayoutExDiskLayout, len(w.LayoutEx.Disk))
	copy(disks, w.LayoutEx.Disk)
	w.LayoutEx.Snapshot = append(w.LayoutEx.Snapshot, types.VirtualMachineFileLayoutExSnapshotLayout{
		Key:       ref,
		DataKey:   key,
		MemoryKey: -1,
		Disk:      disks,
	})
	w.LayoutEx.Timestamp = time.Now()

	files := []string{dsName}
	for _, d := range w.Layout.Disk {
		files = append(files, d.DiskFile...)
	}
	w.Layout.Snapshot = append(w.Layout.Snapshot, types.VirtualMachineFileLayoutSnapshotLayout{
		Key:          ref,
		SnapshotFile: files,
	})
}

func (w *labVM) removeSnapshotFiles(ref types.ManagedObjectReference) {
	var dataKey int32 = -1
	var snaps []types.VirtualMachineFileLayoutExSnapshotLayout
	for _, s := range w.LayoutEx.Snapshot {
		if s.Key == ref {
			dataKey = s.DataKey
			continue
		}
		snaps = append(snaps, s)
	}
	w.LayoutEx.Snapshot = snaps
	var files []types.VirtualMachineFileLayoutExFileInfo
	for _, f := range w.LayoutEx.File {
		if f.Key == dataKey {
			if local, ok := w.localPath(f.Name); ok {
				_ = os.Remove(local)
			}
			continue
		}
		files = append(files, f)
	}
	w.LayoutEx.File = files
	w.LayoutEx.Timestamp = time.Now()
	var layout []types.VirtualMachineFileLayoutSnapshotLayout
	for _, s := range w.Layout.Snapshot {
		if s.Key != ref {
			layout = append(layout, s)
		}
	}
	w.Layout.Snapshot = layout
}

// removeSnapshot takes ref (and its subtree if removeChildren) out of the
// VM's snapshot tree. The caller holds the VM's lock.
func (w *labVM) removeSnapshot(ref types.ManagedObjectReference, removeChildren bool) types.BaseMethodFault {
	if w.Snapshot == nil || findNode(w.Snapshot.RootSnapshotList, ref) == nil {
		return &types.ManagedObjectNotFound{Obj: ref}
	}
	parent, _ := parentOf(w.Snapshot.RootSnapshotList, ref, nil)
	node := findNode(w.Snapshot.RootSnapshotList, ref)
	var children []types.ManagedObjectReference
	for _, c := range node.ChildSnapshotList {
		children = append(children, c.Snapshot)
	}

	tree, removed := removeNode(copyTree(w.Snapshot.RootSnapshotList), ref, removeChildren)

	if parent != nil {
		if ps, ok := simulator.Map.Get(*parent).(*labSnapshot); ok {
			var kids []types.ManagedObjectReference
			for _, k := range ps.ChildSnapshot {
				if k != ref {
					kids = append(kids, k)
				}
			}
			if !removeChildren {
				kids = append(kids, children...)
			}
			ps.ChildSnapshot = kids
		}
	}

	current := w.Snapshot.CurrentSnapshot
	for _, r := range removed {
		if current != nil && *current == r {
			current = parent
		}
		w.removeSnapshotFiles(r)
		simulator.Map.Remove(r)
	}

	changes := []types.PropertyChange{
		{Name: "layout", Val: w.Layout},
		{Name: "layoutEx", Val: w.LayoutEx},
	}
	if len(tree) == 0 {
		changes = append(changes,
			types.PropertyChange{Name: "snapshot", Val: nil},
			types.PropertyChange{Name: "rootSnapshot", Val: nil})
	} else {
		var roots []types.ManagedObjectReference
		for _, n := range tree {
			roots = append(roots, n.Snapshot)
		}
		changes = append(changes,
			types.PropertyChange{Name: "snapshot", Val: &types.VirtualMachineSnapshotInfo{CurrentSnapshot: current, RootSnapshotList: tree}},
			types.PropertyChange{Name: "rootSnapshot", Val: roots})
	}
	simulator.Map.Update(w, changes)
	return nil
}

func (w *labVM) RemoveAllSnapshotsTask(req *types.RemoveAllSnapshots_Task) soap.HasFault {
	task := simulator.CreateTask(w, "removeAllSnapshots", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		if w.Snapshot == nil {
			return nil, nil
		}
		for _, n := range w.Snapshot.RootSnapshotList {
			if err := w.removeSnapshot(n.Snapshot, true); err != nil {
				return nil, err
			}
			if w.Snapshot == nil {
				break
			}
		}
		return nil, nil
	})
	return &methods.RemoveAllSnapshots_TaskBody{
		Res: &types.RemoveAllSnapshots_TaskResponse{Returnval: task.Run()},
	}
}

// owner returns the lab VM a snapshot belongs to.
func (s *labSnapshot) owner() (*labVM, types.BaseMethodFault) {
	w, ok := simulator.Map.Get(s.Vm).(*labVM)
	if !ok {
		return nil, &types.ManagedObjectNotFound{Obj: s.Vm}
	}
	return w, nil
}

func (s *labSnapshot) RemoveSnapshotTask(req *types.RemoveSnapshot_Task) soap.HasFault {
	task := simulator.CreateTask(s, "removeSnapshot", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		w, fault := s.owner()
		if fault != nil {
			return nil, fault
		}
		simulator.Map.WithLock(w, func() {
			fault = w.removeSnapshot(s.Self, req.RemoveChildren)
		})
		return nil, fault
	})
	return &methods.RemoveSnapshot_TaskBody{
		Res: &types.RemoveSnapshot_TaskResponse{Returnval: task.Run()},
	}
}

func (s *labSnapshot) RevertToSnapshotTask(req *types.RevertToSnapshot_Task) soap.HasFault {
	task := simulator.CreateTask(s, "revertToSnapshot", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		w, fault := s.owner()
		if fault != nil {
			return nil, fault
		}
		simulator.Map.WithLock(w, func() {
			if w.Snapshot == nil || findNode(w.Snapshot.RootSnapshotList, s.Self) == nil {
				fault = &types.ManagedObjectNotFound{Obj: s.Self}
				return
			}
			ref := s.Self
			simulator.Map.Update(w, []types.PropertyChange{
				{Name: "snapshot.currentSnapshot", Val: &ref},
			})
		})
		return nil, fault
	})
	return &methods.RevertToSnapshot_TaskBody{
		Res: &types.RevertToSnapshot_TaskResponse{Returnval: task.Run()},
	}
}

func (s *labSnapshot) RenameSnapshot(req *types.RenameSnapshot) soap.HasFault {
	body := &methods.RenameSnapshotBody{}
	w, fault := s.owner()
	if fault == nil {
		simulator.Map.WithLock(w, func() {
			if w.Snapshot == nil {
				fault = &types.ManagedObjectNotFound{Obj: s.Self}
				return
			}
			tree := copyTree(w.Snapshot.RootSnapshotList)
			n := findNode(tree, s.Self)
			if n == nil {
				fault = &types.ManagedObjectNotFound{Obj: s.Self}
				return
			}
			if req.Name != "" {
				n.Name = req.Name
			}
			if req.Description != "" {
				n.Description = req.Description
			}
			simulator.Map.Update(w, []types.PropertyChange{
				{Name: "snapshot.rootSnapshotList", Val: tree},
			})
		})
	}
	if fault != nil {
		body.Fault_ = simulator.Fault("", fault)
		return body
	}
	body.Res = &types.RenameSnapshotResponse{}
	return body
}
