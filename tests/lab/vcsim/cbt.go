// Changed block tracking for the lab VMs: the lab VirtualMachine type, disk
// changeIds, the test-controlled change lists and QueryChangedDiskAreas.

package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Settings shared by every lab VM, set once from the flags before serving.
var (
	changesDir   string
	maxAreas     = 2000
	snapshotSeqs int32
)

// labVM is the simulator's VirtualMachine with the lab's extra methods. The
// simulator's VirtualMachine MUST stay the first field and be embedded by
// value: the property collector finds the managed object by walking first
// fields, and fails on a pointer.
type labVM struct {
	simulator.VirtualMachine

	lab *vmState
}

type vmState struct {
	name       string
	datacenter string
	model      *vmModel
	disks      map[int32]*diskState // by device key
	nextIndex  int
}

// diskState is the CBT state of one disk; the changeId is epoch/seq.
type diskState struct {
	index int
	epoch [16]byte
	seq   int64
}

func defaultEpoch(instanceUUID string, index int) [16]byte {
	sum := sha1.Sum([]byte(fmt.Sprintf("ferry-lab-cbt\x00%s\x00%d", instanceUUID, index)))
	var e [16]byte
	copy(e[:], sum[:16])
	e[0] = 0x52 // vSphere change ids start with 52
	return e
}

// formatChangeID writes the vSphere form: "52 de c0 d9 98 ae e2 e8-7f 6a 3c c5 1e 9f 88 45/12".
func formatChangeID(epoch [16]byte, seq int64) string {
	var b strings.Builder
	for i, c := range epoch {
		switch {
		case i == 8:
			b.WriteByte('-')
		case i > 0:
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%02x", c)
	}
	fmt.Fprintf(&b, "/%d", seq)
	return b.String()
}

// parseChangeID accepts 16 hex byte pairs separated by spaces (a '-' may
// separate the 8th and 9th), then '/' and a decimal sequence number.
func parseChangeID(s string) ([16]byte, int64, error) {
	var epoch [16]byte
	slash := strings.LastIndexByte(s, '/')
	if slash < 0 {
		return epoch, 0, fmt.Errorf("no '/'")
	}
	seq, err := strconv.ParseInt(s[slash+1:], 10, 64)
	if err != nil || seq < 0 || s[slash+1:] == "" || s[slash+1] == '+' {
		return epoch, 0, fmt.Errorf("bad sequence number")
	}
	head := s[:slash]
	if len(head) != 16*3-1 {
		return epoch, 0, fmt.Errorf("bad length")
	}
	for i := 0; i < 16; i++ {
		if i > 0 {
			sep := head[i*3-1]
			if !(sep == ' ' || (i == 8 && sep == '-')) {
				return epoch, 0, fmt.Errorf("bad separator")
			}
		}
		v, err := hex.DecodeString(head[i*3 : i*3+2])
		if err != nil {
			return epoch, 0, fmt.Errorf("bad hex")
		}
		epoch[i] = v[0]
	}
	return epoch, seq, nil
}

// extent is one area of a change list, in bytes.
type extent struct {
	Start  int64 `json:"start"`
	Length int64 `json:"length"`
}

// changesFile is <changes-dir>/<vm>/disk<N>.json (or a bare list of extents).
type changesFile struct {
	ChangeID  string    `json:"change_id"`
	Since     string    `json:"since"`
	Areas     []extent  `json:"areas"`
	Allocated *[]extent `json:"allocated"`
}

func changesPath(vmName string, index int) string {
	if changesDir == "" {
		return ""
	}
	return filepath.Join(changesDir, vmName, fmt.Sprintf("disk%d.json", index))
}

// readChanges reads a disk's change file; a missing file means no changes.
func readChanges(vmName string, index int) (*changesFile, error) {
	p := changesPath(vmName, index)
	cf := &changesFile{}
	if p == "" {
		return cf, nil
	}
	data, err := os.ReadFile(p)
	if err != nil {
		if os.IsNotExist(err) {
			return cf, nil
		}
		return nil, err
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return cf, nil
	}
	if data[0] == '[' {
		err = json.Unmarshal(data, &cf.Areas)
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(cf)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	if cf.ChangeID != "" {
		if _, _, err := parseChangeID(cf.ChangeID); err != nil {
			return nil, fmt.Errorf("%s: change_id %q: %v", p, cf.ChangeID, err)
		}
	}
	if cf.Since != "" {
		if _, _, err := parseChangeID(cf.Since); err != nil {
			return nil, fmt.Errorf("%s: since %q: %v", p, cf.Since, err)
		}
	}
	return cf, nil
}

func sameChangeID(a, b string) bool {
	ea, sa, erra := parseChangeID(a)
	eb, sb, errb := parseChangeID(b)
	return erra == nil && errb == nil && ea == eb && sa == sb
}

func flatBacking(d *types.VirtualDisk) *types.VirtualDiskFlatVer2BackingInfo {
	b, _ := d.Backing.(*types.VirtualDiskFlatVer2BackingInfo)
	return b
}

func diskCapacity(d *types.VirtualDisk) int64 {
	if d.CapacityInBytes > 0 {
		return d.CapacityInBytes
	}
	return d.CapacityInKB * 1024
}

func (w *labVM) cbtEnabled() bool {
	return w.Config.ChangeTrackingEnabled != nil && *w.Config.ChangeTrackingEnabled
}

// diskState returns the lab state of a disk, creating it for disks that
// were added after startup (e.g. by ReconfigVM).
func (w *labVM) diskState(d *types.VirtualDisk) *diskState {
	if ds, ok := w.lab.disks[d.Key]; ok {
		return ds
	}
	ds := &diskState{index: w.lab.nextIndex, epoch: defaultEpoch(w.Config.InstanceUuid, w.lab.nextIndex), seq: 1}
	w.lab.nextIndex++
	w.lab.disks[d.Key] = ds
	return ds
}

func (w *labVM) disks() []*types.VirtualDisk {
	var out []*types.VirtualDisk
	for _, dev := range w.Config.Hardware.Device {
		if d, ok := dev.(*types.VirtualDisk); ok {
			out = append(out, d)
		}
	}
	return out
}

// refreshChangeIDs sets every disk backing's changeId from the lab state and
// the change files (a change_id there pins the current value). It returns the
// keys of pinned disks. The caller holds the VM's lock.
func (w *labVM) refreshChangeIDs() map[int32]bool {
	pinned := map[int32]bool{}
	changed := false
	for _, d := range w.disks() {
		b := flatBacking(d)
		if b == nil {
			continue
		}
		ds := w.diskState(d)
		want := ""
		if w.cbtEnabled() {
			cf, err := readChanges(w.lab.name, ds.index)
			if err != nil {
				log.Printf("%s: %v", w.lab.name, err)
			} else if cf.ChangeID != "" {
				ds.epoch, ds.seq, _ = parseChangeID(cf.ChangeID)
				pinned[d.Key] = true
			}
			want = formatChangeID(ds.epoch, ds.seq)
		}
		if b.ChangeId != want {
			b.ChangeId = want
			changed = true
		}
	}
	if changed {
		simulator.Map.Update(w, []types.PropertyChange{
			{Name: "config.hardware.device", Val: w.Config.Hardware.Device},
		})
	}
	return pinned
}

// advanceChangeIDs moves unpinned disks to the next sequence number: called
// right after a snapshot captured the current ones.
func (w *labVM) advanceChangeIDs(pinned map[int32]bool) {
	if !w.cbtEnabled() {
		return
	}
	for _, d := range w.disks() {
		b := flatBacking(d)
		if b == nil || pinned[d.Key] {
			continue
		}
		ds := w.diskState(d)
		ds.seq++
		b.ChangeId = formatChangeID(ds.epoch, ds.seq)
	}
	simulator.Map.Update(w, []types.PropertyChange{
		{Name: "config.hardware.device", Val: w.Config.Hardware.Device},
	})
}

// ReconfigVMTask runs the simulator's reconfigure, then keeps the disks'
// changeIds in line with changeTrackingEnabled. Container-running VMs (a
// simulator feature that runs shell commands) are refused.
func (w *labVM) ReconfigVMTask(ctx *simulator.Context, req *types.ReconfigVM_Task) soap.HasFault {
	for _, opt := range req.Spec.ExtraConfig {
		if strings.HasPrefix(opt.GetOptionValue().Key, "RUN.") {
			return &methods.ReconfigVM_TaskBody{
				Fault_: simulator.Fault("RUN.* extraConfig keys are disabled in the lab", &types.InvalidArgument{InvalidProperty: "extraConfig"}),
			}
		}
	}
	res := w.VirtualMachine.ReconfigVMTask(ctx, req)
	w.refreshChangeIDs()
	return res
}

func fileFault(file, msg string) (*types.DiskChangeInfo, string, types.BaseMethodFault) {
	return nil, "Error caused by file " + file + ": " + msg, &types.FileFault{File: file}
}

func invalidArgument(prop, msg string) (*types.DiskChangeInfo, string, types.BaseMethodFault) {
	m := "A specified parameter was not correct: " + prop
	if msg != "" {
		m += " (" + msg + ")"
	}
	return nil, m, &types.InvalidArgument{InvalidProperty: prop}
}

// QueryChangedDiskAreas answers from the disk's change file, paged like
// vSphere: at most maxAreas areas per call, DiskChangeInfo covering the range
// answered so that the caller continues at startOffset+length.
func (w *labVM) QueryChangedDiskAreas(req *types.QueryChangedDiskAreas) soap.HasFault {
	body := &methods.QueryChangedDiskAreasBody{}
	info, msg, fault := w.queryChangedDiskAreas(req)
	if fault != nil {
		log.Printf("QueryChangedDiskAreas %s key=%d start=%d changeId=%q: %s", w.lab.name, req.DeviceKey, req.StartOffset, req.ChangeId, msg)
		body.Fault_ = simulator.Fault(msg, fault)
		return body
	}
	body.Res = &types.QueryChangedDiskAreasResponse{Returnval: *info}
	return body
}

func (w *labVM) queryChangedDiskAreas(req *types.QueryChangedDiskAreas) (*types.DiskChangeInfo, string, types.BaseMethodFault) {
	config := w.Config
	if req.Snapshot != nil {
		snap, ok := simulator.Map.Get(*req.Snapshot).(*labSnapshot)
		if !ok || snap.Vm != w.Self {
			return nil, fmt.Sprintf("The object '%s' has already been deleted or has not been completely created", req.Snapshot.Value),
				&types.ManagedObjectNotFound{Obj: *req.Snapshot}
		}
		config = &snap.Config
	} else {
		w.refreshChangeIDs()
	}

	var disk *types.VirtualDisk
	for _, dev := range config.Hardware.Device {
		if d, ok := dev.(*types.VirtualDisk); ok && d.Key == req.DeviceKey {
			disk = d
		}
	}
	if disk == nil {
		return invalidArgument("deviceKey", fmt.Sprintf("no disk with key %d", req.DeviceKey))
	}
	backing := flatBacking(disk)
	if backing == nil {
		return invalidArgument("deviceKey", "not a flat disk")
	}
	file := backing.FileName
	if config.ChangeTrackingEnabled == nil || !*config.ChangeTrackingEnabled {
		return fileFault(file, "change tracking is not enabled")
	}
	if strings.HasPrefix(backing.DiskMode, "independent") {
		return fileFault(file, "independent disks are not tracked")
	}
	capacity := diskCapacity(disk)
	if req.StartOffset < 0 || req.StartOffset >= capacity {
		return invalidArgument("startOffset", fmt.Sprintf("%d is outside the disk (capacity %d)", req.StartOffset, capacity))
	}

	ds := w.diskState(disk)
	cf, err := readChanges(w.lab.name, ds.index)
	if err != nil {
		return nil, "vcsim: bad change file: " + err.Error(), &types.SystemError{Reason: err.Error()}
	}

	var areas []extent
	if req.ChangeId == "*" {
		if cf.Allocated != nil {
			areas = *cf.Allocated
		} else {
			areas = []extent{{Start: 0, Length: capacity}}
		}
	} else {
		epoch, seq, err := parseChangeID(req.ChangeId)
		if err != nil {
			return invalidArgument("changeId", err.Error())
		}
		refEpoch, refSeq, err := parseChangeID(backing.ChangeId)
		if err != nil {
			return fileFault(file, "disk has no valid changeId")
		}
		if epoch != refEpoch {
			return fileFault(file, "changeId is from another change tracking epoch (tracking was reset)")
		}
		if seq > refSeq {
			return fileFault(file, "changeId is newer than the disk's")
		}
		if cf.Since != "" && !sameChangeID(cf.Since, req.ChangeId) {
			return invalidArgument("changeId", fmt.Sprintf("lab change file lists changes since %q, not since %q", cf.Since, req.ChangeId))
		}
		areas = cf.Areas
	}

	return pageAreas(normalizeAreas(areas, capacity), req.StartOffset, capacity), "", nil
}

// normalizeAreas sorts the areas, clips them to the disk and merges overlaps
// (adjacent areas stay separate, so a test controls the count exactly).
func normalizeAreas(in []extent, capacity int64) []extent {
	var areas []extent
	for _, a := range in {
		if a.Length <= 0 || a.Start < 0 || a.Start >= capacity {
			continue
		}
		if a.Start+a.Length > capacity {
			a.Length = capacity - a.Start
		}
		areas = append(areas, a)
	}
	sort.Slice(areas, func(i, j int) bool { return areas[i].Start < areas[j].Start })
	var out []extent
	for _, a := range areas {
		if n := len(out); n > 0 && a.Start < out[n-1].Start+out[n-1].Length {
			if end := a.Start + a.Length; end > out[n-1].Start+out[n-1].Length {
				out[n-1].Length = end - out[n-1].Start
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

func pageAreas(areas []extent, start, capacity int64) *types.DiskChangeInfo {
	info := &types.DiskChangeInfo{StartOffset: start, Length: capacity - start}
	i := sort.Search(len(areas), func(i int) bool { return areas[i].Start+areas[i].Length > start })
	for ; i < len(areas) && len(info.ChangedArea) < maxAreas; i++ {
		a := areas[i]
		if a.Start < start {
			a.Length -= start - a.Start
			a.Start = start
		}
		info.ChangedArea = append(info.ChangedArea, types.DiskChangeExtent{Start: a.Start, Length: a.Length})
	}
	if i < len(areas) {
		last := info.ChangedArea[len(info.ChangedArea)-1]
		info.Length = last.Start + last.Length - start
	}
	return info
}

// reloadAll re-reads every change file (SIGHUP).
func reloadAll(vms []*labVM) {
	for _, w := range vms {
		w := w
		if simulator.Map.Get(w.Self) != w {
			continue // destroyed
		}
		simulator.Map.WithLock(w, func() { w.refreshChangeIDs() })
	}
}

func nextSnapshotID() int32 {
	return atomic.AddInt32(&snapshotSeqs, 1)
}
