// Delta disks for snapshots (-snapshot-deltas), as ESXi makes them: when a
// snapshot is taken, each of the VM's disks moves to a new delta file whose
// parent is the file the snapshot keeps. The delta is a real sparse VMDK
// written by qemu-img with a relative parent hint, so qemu-nbd follows the
// chain. Removing a snapshot leaves the files as they are (no consolidation).

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

var (
	snapshotDeltas bool
	deltaStemRe    = regexp.MustCompile(`^(.*)-[0-9]{6}$`)
)

// addDeltaDisks moves every flat disk of the VM to a new delta file; the
// caller has already copied the config the snapshot keeps.
func (w *labVM) addDeltaDisks() types.BaseMethodFault {
	for _, dev := range w.Config.Hardware.Device {
		d, ok := dev.(*types.VirtualDisk)
		if !ok {
			continue
		}
		b := flatBacking(d)
		if b == nil {
			continue
		}
		var p object.DatastorePath
		if !p.FromString(b.FileName) {
			return &types.SystemError{Reason: fmt.Sprintf("invalid disk file %q", b.FileName)}
		}
		local, ok := w.localPath(b.FileName)
		if !ok {
			return &types.SystemError{Reason: fmt.Sprintf("no datastore for %q", b.FileName)}
		}
		dir := filepath.Dir(local)
		stem := filepath.Base(local)
		stem = stem[:len(stem)-len(filepath.Ext(stem))]
		if m := deltaStemRe.FindStringSubmatch(stem); m != nil {
			stem = m[1]
		}
		var name string
		for n := 1; ; n++ {
			name = fmt.Sprintf("%s-%06d.vmdk", stem, n)
			if _, err := os.Stat(filepath.Join(dir, name)); os.IsNotExist(err) {
				break
			}
		}
		cmd := exec.Command("qemu-img", "create", "-q", "-f", "vmdk", "-b", filepath.Base(local), "-F", "vmdk", name)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return &types.SystemError{Reason: fmt.Sprintf("qemu-img create %s: %v: %s", name, err, out)}
		}
		parent := *b
		b.Parent = &parent
		b.FileName = (&object.DatastorePath{Datastore: p.Datastore, Path: path.Join(path.Dir(p.Path), name)}).String()
	}
	return nil
}
