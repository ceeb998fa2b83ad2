// The lab model file: a JSON description of the vSphere inventory that the
// simulator builds at startup (see README.md for the format).

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
)

type labModel struct {
	Datacenters []dcModel `json:"datacenters"`
}

type dcModel struct {
	Name       string         `json:"name"`
	Clusters   []clusterModel `json:"clusters"`
	Datastores []string       `json:"datastores"`
	Networks   []netModel     `json:"networks"`
	DVSwitches []dvsModel     `json:"dvswitches"`
	Folders    []string       `json:"folders"`
	VMs        []vmModel      `json:"vms"`
}

type clusterModel struct {
	Name  string   `json:"name"`
	Hosts []string `json:"hosts"`
}

// netModel is a standard (vSwitch) portgroup present on every host of the datacenter.
type netModel struct {
	Name    string `json:"name"`
	VLAN    int32  `json:"vlan"`
	VSwitch string `json:"vswitch"`
}

type dvsModel struct {
	Name       string      `json:"name"`
	Portgroups []dvpgModel `json:"portgroups"`
}

// dvpgModel is a distributed portgroup: either an access VLAN (vlan, 0 = untagged)
// or a trunk (list of ranges).
type dvpgModel struct {
	Name  string      `json:"name"`
	VLAN  int32       `json:"vlan"`
	Trunk []vlanRange `json:"trunk"`
	Ports int32       `json:"ports"`
}

type vlanRange struct {
	Start int32 `json:"start"`
	End   int32 `json:"end"`
}

type vmModel struct {
	Name             string            `json:"name"`
	Folder           string            `json:"folder"`
	Cluster          string            `json:"cluster"`
	Host             string            `json:"host"`
	Datastore        string            `json:"datastore"`
	GuestID          string            `json:"guest_id"`
	GuestFullName    string            `json:"guest_full_name"`
	ToolsRunning     bool              `json:"tools_running"`
	Hostname         string            `json:"hostname"`
	CPUs             int32             `json:"cpus"`
	CoresPerSocket   int32             `json:"cores_per_socket"`
	MemoryMiB        int64             `json:"memory_mib"`
	PowerState       string            `json:"power_state"`
	Firmware         string            `json:"firmware"`
	SecureBoot       bool              `json:"secure_boot"`
	VTPM             bool              `json:"vtpm"`
	HWVersion        string            `json:"hw_version"`
	ChangeTracking   bool              `json:"change_tracking"`
	UUID             string            `json:"uuid"`
	InstanceUUID     string            `json:"instance_uuid"`
	Annotation       string            `json:"annotation"`
	CustomAttributes map[string]string `json:"custom_attributes"`
	SCSIController   string            `json:"scsi_controller"`
	Disks            []diskModel       `json:"disks"`
	NICs             []nicModel        `json:"nics"`
	vmExtras
}

// vmExtras are the VM attributes added for the expression tests: guest
// configuration keys (guestinfo.detailed.data is what VMware Tools reports
// about the OS) and vSphere tags by category.
type vmExtras struct {
	ExtraConfig map[string]string   `json:"extra_config"`
	Tags        map[string][]string `json:"tags"`
}

type diskModel struct {
	CapacityMiB int64  `json:"capacity_mib"`
	Datastore   string `json:"datastore"`
	Thin        *bool  `json:"thin"`
	Mode        string `json:"mode"`
	Sharing     string `json:"sharing"`
}

type nicModel struct {
	Network   string `json:"network"`
	MAC       string `json:"mac"`
	Type      string `json:"type"`
	IP        string `json:"ip"`
	Connected *bool  `json:"connected"`
}

var (
	uuidRe    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	nameRe    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	hwVerRe   = regexp.MustCompile(`^vmx-[0-9]+$`)
	diskModes = map[string]bool{
		"persistent": true, "nonpersistent": true, "undoable": true,
		"independent_persistent": true, "independent_nonpersistent": true, "append": true,
	}
	sharingModes = map[string]bool{"": true, "sharingNone": true, "sharingMultiWriter": true}
	nicTypes     = map[string]bool{"": true, "vmxnet3": true, "e1000": true, "e1000e": true}
	scsiTypes    = map[string]bool{"": true, "pvscsi": true, "lsilogic": true, "lsilogic-sas": true, "buslogic": true}
	powerStates  = map[string]bool{"": true, "poweredOn": true, "poweredOff": true, "suspended": true}
)

func loadModel(path string) (*labModel, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m labModel
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &m, nil
}

// validate checks the model and fills in defaults, so that the builder can
// trust every name it resolves.
func (m *labModel) validate() error {
	if len(m.Datacenters) == 0 {
		return fmt.Errorf("no datacenters")
	}
	seenDC := map[string]bool{}
	seenDS := map[string]bool{}
	seenVM := map[string]bool{}
	seenHost := map[string]bool{}
	seenDVS := map[string]bool{}
	for di := range m.Datacenters {
		dc := &m.Datacenters[di]
		if !nameRe.MatchString(dc.Name) || seenDC[dc.Name] {
			return fmt.Errorf("datacenter %q: bad or duplicate name", dc.Name)
		}
		seenDC[dc.Name] = true
		if len(dc.Clusters) == 0 {
			return fmt.Errorf("datacenter %s: needs at least one cluster", dc.Name)
		}
		if len(dc.Datastores) == 0 {
			return fmt.Errorf("datacenter %s: needs at least one datastore", dc.Name)
		}
		clusters := map[string]map[string]bool{}
		for _, cl := range dc.Clusters {
			if !nameRe.MatchString(cl.Name) || clusters[cl.Name] != nil {
				return fmt.Errorf("datacenter %s: cluster %q: bad or duplicate name", dc.Name, cl.Name)
			}
			if len(cl.Hosts) == 0 {
				return fmt.Errorf("cluster %s: needs at least one host", cl.Name)
			}
			clusters[cl.Name] = map[string]bool{}
			for _, h := range cl.Hosts {
				if !nameRe.MatchString(h) || seenHost[h] {
					return fmt.Errorf("cluster %s: host %q: bad or duplicate name", cl.Name, h)
				}
				seenHost[h] = true
				clusters[cl.Name][h] = true
			}
		}
		dss := map[string]bool{}
		for _, ds := range dc.Datastores {
			// datastore names are also directory names under -datastore-dir
			if !nameRe.MatchString(ds) || seenDS[ds] {
				return fmt.Errorf("datacenter %s: datastore %q: bad or duplicate name (names are global)", dc.Name, ds)
			}
			seenDS[ds] = true
			dss[ds] = true
		}
		nets := map[string]bool{"VM Network": true}
		for i := range dc.Networks {
			n := &dc.Networks[i]
			if n.Name == "" || nets[n.Name] {
				return fmt.Errorf("datacenter %s: network %q: empty or duplicate name", dc.Name, n.Name)
			}
			if n.VLAN < 0 || n.VLAN > 4095 {
				return fmt.Errorf("network %s: vlan %d out of range", n.Name, n.VLAN)
			}
			if n.VSwitch == "" {
				n.VSwitch = "vSwitch0"
			}
			nets[n.Name] = true
		}
		for _, d := range dc.DVSwitches {
			if d.Name == "" || seenDVS[d.Name] || nets[d.Name] {
				return fmt.Errorf("datacenter %s: dvswitch %q: empty or duplicate name", dc.Name, d.Name)
			}
			seenDVS[d.Name] = true
			for i := range d.Portgroups {
				pg := &d.Portgroups[i]
				if pg.Name == "" || nets[pg.Name] {
					return fmt.Errorf("dvswitch %s: portgroup %q: empty or duplicate name", d.Name, pg.Name)
				}
				if pg.VLAN < 0 || pg.VLAN > 4094 {
					return fmt.Errorf("portgroup %s: vlan %d out of range", pg.Name, pg.VLAN)
				}
				if len(pg.Trunk) > 0 && pg.VLAN != 0 {
					return fmt.Errorf("portgroup %s: vlan and trunk are exclusive", pg.Name)
				}
				for _, r := range pg.Trunk {
					if r.Start < 0 || r.End > 4094 || r.Start > r.End {
						return fmt.Errorf("portgroup %s: bad trunk range %d-%d", pg.Name, r.Start, r.End)
					}
				}
				if pg.Ports == 0 {
					pg.Ports = 16
				}
				nets[pg.Name] = true
			}
		}
		for _, f := range dc.Folders {
			if err := checkFolder(f); err != nil {
				return fmt.Errorf("datacenter %s: %v", dc.Name, err)
			}
		}
		for vi := range dc.VMs {
			vm := &dc.VMs[vi]
			if !nameRe.MatchString(vm.Name) || seenVM[vm.Name] {
				return fmt.Errorf("vm %q: bad or duplicate name (names are global)", vm.Name)
			}
			seenVM[vm.Name] = true
			if err := vm.validate(dc, clusters, dss, nets); err != nil {
				return fmt.Errorf("vm %s: %v", vm.Name, err)
			}
		}
	}
	return nil
}

func checkFolder(f string) error {
	if f == "" {
		return nil
	}
	for _, part := range strings.Split(f, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("folder %q: bad path", f)
		}
	}
	return nil
}

func (vm *vmModel) validate(dc *dcModel, clusters map[string]map[string]bool, dss, nets map[string]bool) error {
	if err := checkFolder(vm.Folder); err != nil {
		return err
	}
	if vm.Cluster == "" {
		vm.Cluster = dc.Clusters[0].Name
	}
	if clusters[vm.Cluster] == nil {
		return fmt.Errorf("unknown cluster %q", vm.Cluster)
	}
	if vm.Host != "" && !clusters[vm.Cluster][vm.Host] {
		return fmt.Errorf("host %q is not in cluster %s", vm.Host, vm.Cluster)
	}
	if vm.Datastore == "" {
		vm.Datastore = dc.Datastores[0]
	}
	if !dss[vm.Datastore] {
		return fmt.Errorf("unknown datastore %q", vm.Datastore)
	}
	if vm.CPUs == 0 {
		vm.CPUs = 1
	}
	if vm.CoresPerSocket == 0 {
		vm.CoresPerSocket = 1
	}
	if vm.CPUs < 1 || vm.CoresPerSocket < 1 || vm.CPUs%vm.CoresPerSocket != 0 {
		return fmt.Errorf("bad cpus/cores_per_socket %d/%d", vm.CPUs, vm.CoresPerSocket)
	}
	if vm.MemoryMiB == 0 {
		vm.MemoryMiB = 1024
	}
	if vm.MemoryMiB < 4 {
		return fmt.Errorf("bad memory_mib %d", vm.MemoryMiB)
	}
	if !powerStates[vm.PowerState] {
		return fmt.Errorf("bad power_state %q", vm.PowerState)
	}
	if vm.PowerState == "" {
		vm.PowerState = "poweredOff"
	}
	switch vm.Firmware {
	case "":
		vm.Firmware = "bios"
	case "bios", "efi":
	default:
		return fmt.Errorf("bad firmware %q", vm.Firmware)
	}
	if vm.SecureBoot && vm.Firmware != "efi" {
		return fmt.Errorf("secure_boot needs firmware efi")
	}
	if vm.HWVersion == "" {
		vm.HWVersion = "vmx-19"
	}
	if !hwVerRe.MatchString(vm.HWVersion) {
		return fmt.Errorf("bad hw_version %q", vm.HWVersion)
	}
	if vm.UUID != "" && !uuidRe.MatchString(vm.UUID) {
		return fmt.Errorf("bad uuid %q", vm.UUID)
	}
	if vm.InstanceUUID != "" && !uuidRe.MatchString(vm.InstanceUUID) {
		return fmt.Errorf("bad instance_uuid %q", vm.InstanceUUID)
	}
	if !scsiTypes[vm.SCSIController] {
		return fmt.Errorf("bad scsi_controller %q", vm.SCSIController)
	}
	if vm.SCSIController == "" {
		vm.SCSIController = "pvscsi"
	}
	if len(vm.Disks) > 15 {
		return fmt.Errorf("at most 15 disks")
	}
	for i := range vm.Disks {
		d := &vm.Disks[i]
		if d.CapacityMiB < 1 || d.CapacityMiB > 65536 {
			return fmt.Errorf("disk %d: bad capacity_mib %d", i, d.CapacityMiB)
		}
		if d.Datastore == "" {
			d.Datastore = vm.Datastore
		}
		if !dss[d.Datastore] {
			return fmt.Errorf("disk %d: unknown datastore %q", i, d.Datastore)
		}
		if d.Thin == nil {
			t := true
			d.Thin = &t
		}
		if d.Mode == "" {
			d.Mode = "persistent"
		}
		if !diskModes[d.Mode] {
			return fmt.Errorf("disk %d: bad mode %q", i, d.Mode)
		}
		if !sharingModes[d.Sharing] {
			return fmt.Errorf("disk %d: bad sharing %q", i, d.Sharing)
		}
		if d.Sharing == "" {
			d.Sharing = "sharingNone"
		}
	}
	if len(vm.NICs) > 10 {
		return fmt.Errorf("at most 10 nics")
	}
	for i := range vm.NICs {
		n := &vm.NICs[i]
		if !nets[n.Network] {
			return fmt.Errorf("nic %d: unknown network %q", i, n.Network)
		}
		if n.MAC != "" {
			hw, err := net.ParseMAC(n.MAC)
			if err != nil || len(hw) != 6 {
				return fmt.Errorf("nic %d: bad mac %q", i, n.MAC)
			}
			n.MAC = hw.String()
		}
		if !nicTypes[n.Type] {
			return fmt.Errorf("nic %d: bad type %q", i, n.Type)
		}
		if n.Type == "" {
			n.Type = "vmxnet3"
		}
		if n.IP != "" && net.ParseIP(n.IP) == nil {
			return fmt.Errorf("nic %d: bad ip %q", i, n.IP)
		}
		if n.Connected == nil {
			c := true
			n.Connected = &c
		}
	}
	for k := range vm.CustomAttributes {
		if k == "" {
			return fmt.Errorf("empty custom attribute name")
		}
	}
	for k := range vm.ExtraConfig {
		// RUN.* would make the simulator start containers.
		if k == "" || strings.HasPrefix(k, "RUN.") {
			return fmt.Errorf("bad extra_config key %q", k)
		}
	}
	for category, names := range vm.Tags {
		if category == "" || len(names) == 0 {
			return fmt.Errorf("tags: category %q needs at least one tag", category)
		}
		for _, t := range names {
			if t == "" {
				return fmt.Errorf("tags: empty tag in category %q", category)
			}
		}
	}
	return nil
}
