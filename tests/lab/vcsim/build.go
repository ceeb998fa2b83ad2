// Building the inventory: mostly through the vSphere API (in process, against
// the simulator's own RoundTripper), with a few direct fixes where the
// simulator's helpers only handle one host at a time.

package main

import (
	"context"
	"crypto/sha1"
	"fmt"
	"io/ioutil"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// netTarget says how a NIC attaches to a named network of a datacenter.
type netTarget struct {
	ref     types.ManagedObjectReference
	dvsUUID string // empty for a standard portgroup
	pgKey   string
}

type dcState struct {
	model        *dcModel
	dc           *object.Datacenter
	folders      *object.DatacenterFolders
	hosts        []types.ManagedObjectReference            // all hosts, model order
	hostByName   map[string]types.ManagedObjectReference   // host name -> ref
	clusterRef   map[string]types.ManagedObjectReference   // cluster name -> ref
	clusterHosts map[string][]types.ManagedObjectReference // cluster name -> hosts
	nextHost     map[string]int                            // round robin per cluster
	nets         map[string]netTarget
	vmFolders    map[string]*object.Folder
}

type builder struct {
	ctx       context.Context
	c         *vim25.Client
	dsRoot    string
	dsDirs    map[string]string // datastore name -> local directory
	dsRefs    map[string]types.ManagedObjectReference
	madeDirs  []string
	cfm       *object.CustomFieldsManager
	fieldKeys map[string]int32
	vms       []*labVM
}

func newBuilder(ctx context.Context, c *vim25.Client, dsRoot string) *builder {
	return &builder{
		ctx:       ctx,
		c:         c,
		dsRoot:    dsRoot,
		dsDirs:    map[string]string{},
		dsRefs:    map[string]types.ManagedObjectReference{},
		fieldKeys: map[string]int32{},
	}
}

func (b *builder) build(m *labModel) error {
	b.cfm = object.NewCustomFieldsManager(b.c)
	for i := range m.Datacenters {
		if err := b.buildDatacenter(&m.Datacenters[i]); err != nil {
			return fmt.Errorf("datacenter %s: %v", m.Datacenters[i].Name, err)
		}
	}
	return nil
}

func (b *builder) buildDatacenter(dm *dcModel) error {
	ctx := b.ctx
	root := object.NewRootFolder(b.c)
	dc, err := root.CreateDatacenter(ctx, dm.Name)
	if err != nil {
		return err
	}
	folders, err := dc.Folders(ctx)
	if err != nil {
		return err
	}
	st := &dcState{
		model:        dm,
		dc:           dc,
		folders:      folders,
		hostByName:   map[string]types.ManagedObjectReference{},
		clusterRef:   map[string]types.ManagedObjectReference{},
		clusterHosts: map[string][]types.ManagedObjectReference{},
		nextHost:     map[string]int{},
		nets:         map[string]netTarget{},
		vmFolders:    map[string]*object.Folder{"": folders.VmFolder},
	}

	if err := b.buildHosts(st); err != nil {
		return err
	}
	if err := b.buildDatastores(st); err != nil {
		return err
	}
	if err := b.buildNetworks(st); err != nil {
		return err
	}
	if err := b.buildDVSwitches(st); err != nil {
		return err
	}
	for _, f := range dm.Folders {
		if _, err := b.vmFolder(st, f); err != nil {
			return err
		}
	}
	for i := range dm.VMs {
		if err := b.buildVM(st, &dm.VMs[i]); err != nil {
			return fmt.Errorf("vm %s: %v", dm.VMs[i].Name, err)
		}
	}
	return nil
}

func (b *builder) buildHosts(st *dcState) error {
	ctx := b.ctx
	for _, cm := range st.model.Clusters {
		cluster, err := st.folders.HostFolder.CreateCluster(ctx, cm.Name, types.ClusterConfigSpecEx{})
		if err != nil {
			return err
		}
		st.clusterRef[cm.Name] = cluster.Reference()
		for _, name := range cm.Hosts {
			task, err := cluster.AddHost(ctx, types.HostConnectSpec{HostName: name, Force: true}, true, nil, nil)
			if err != nil {
				return err
			}
			info, err := task.WaitForResult(ctx, nil)
			if err != nil {
				return fmt.Errorf("host %s: %v", name, err)
			}
			ref := info.Result.(types.ManagedObjectReference)
			// The simulator hands each new host a slice of the cluster's own
			// network list; give it a private copy before anything appends.
			hs := simulator.Map.Get(ref).(*simulator.HostSystem)
			hs.Network = append([]types.ManagedObjectReference(nil), hs.Network...)
			st.hosts = append(st.hosts, ref)
			st.hostByName[name] = ref
			st.clusterHosts[cm.Name] = append(st.clusterHosts[cm.Name], ref)
		}
	}
	return nil
}

// buildDatastores creates each datastore (a directory under dsRoot) on the
// first host, then mounts it on every other host of the datacenter.
func (b *builder) buildDatastores(st *dcState) error {
	ctx := b.ctx
	first := object.NewHostSystem(b.c, st.hosts[0])
	dss, err := first.ConfigManager().DatastoreSystem(ctx)
	if err != nil {
		return err
	}
	for _, name := range st.model.Datastores {
		dir := filepath.Join(b.dsRoot, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			if !os.IsExist(err) {
				return err
			}
			entries, rerr := ioutil.ReadDir(dir)
			if rerr != nil {
				return rerr
			}
			if len(entries) != 0 {
				return fmt.Errorf("datastore directory %s exists and is not empty", dir)
			}
		}
		b.madeDirs = append(b.madeDirs, dir)
		ds, err := dss.CreateLocalDatastore(ctx, name, dir)
		if err != nil {
			return fmt.Errorf("datastore %s: %v", name, err)
		}
		ref := ds.Reference()
		b.dsDirs[name] = dir
		b.dsRefs[name] = ref

		sds := simulator.Map.Get(ref).(*simulator.Datastore)
		for _, h := range st.hosts[1:] {
			hs := simulator.Map.Get(h).(*simulator.HostSystem)
			hdss := simulator.Map.Get(*hs.ConfigManager.DatastoreSystem).(*simulator.HostDatastoreSystem)
			list := append(append([]types.ManagedObjectReference(nil), hdss.Datastore...), ref)
			hdss.Datastore = list
			hs.Datastore = list
			sds.Host = append(sds.Host, types.DatastoreHostMount{
				Key: h,
				MountInfo: types.HostMountInfo{
					Path:       dir,
					AccessMode: string(types.HostMountModeReadWrite),
					Mounted:    types.NewBool(true),
					Accessible: types.NewBool(true),
				},
			})
			if cr := computeResourceOf(hs); cr != nil && simulator.FindReference(cr.Datastore, ref) == nil {
				cr.Datastore = append(cr.Datastore, ref)
			}
		}
	}
	return nil
}

func computeResourceOf(hs *simulator.HostSystem) *mo.ComputeResource {
	switch p := simulator.Map.Get(*hs.Parent).(type) {
	case *simulator.ClusterComputeResource:
		return &p.ComputeResource
	case *mo.ComputeResource:
		return p
	}
	return nil
}

// buildNetworks adds the standard portgroups: the API call on the first host
// creates the Network object; the portgroup is then recorded on every host.
func (b *builder) buildNetworks(st *dcState) error {
	ctx := b.ctx
	netFolder := simulator.Map.Get(st.folders.NetworkFolder.Reference()).(*simulator.Folder)
	if e := simulator.Map.FindByName("VM Network", netFolder.ChildEntity); e != nil {
		st.nets["VM Network"] = netTarget{ref: e.Reference()}
	}
	if len(st.model.Networks) == 0 {
		return nil
	}
	first := object.NewHostSystem(b.c, st.hosts[0])
	ns, err := first.ConfigManager().NetworkSystem(ctx)
	if err != nil {
		return err
	}
	for _, n := range st.model.Networks {
		spec := types.HostPortGroupSpec{
			Name:        n.Name,
			VlanId:      n.VLAN,
			VswitchName: n.VSwitch,
			Policy:      types.HostNetworkPolicy{},
		}
		if n.VSwitch != "vSwitch0" {
			// a second vSwitch has to exist on the first host before its portgroup
			_ = ns.AddVirtualSwitch(ctx, n.VSwitch, nil)
		}
		if err := ns.AddPortGroup(ctx, spec); err != nil {
			return fmt.Errorf("network %s: %v", n.Name, err)
		}
		e := simulator.Map.FindByName(n.Name, netFolder.ChildEntity)
		if e == nil {
			return fmt.Errorf("network %s: not found after creation", n.Name)
		}
		ref := e.Reference()
		st.nets[n.Name] = netTarget{ref: ref}
		if nw, ok := e.(*mo.Network); ok {
			nw.Host = append([]types.ManagedObjectReference(nil), st.hosts...)
		}
		for _, h := range st.hosts {
			hs := simulator.Map.Get(h).(*simulator.HostSystem)
			addHostPortgroup(hs, spec)
			if simulator.FindReference(hs.Network, ref) == nil {
				hs.Network = append(hs.Network, ref)
			}
			if cr := computeResourceOf(hs); cr != nil && simulator.FindReference(cr.Network, ref) == nil {
				cr.Network = append(cr.Network, ref)
			}
		}
	}
	return nil
}

func addHostPortgroup(hs *simulator.HostSystem, spec types.HostPortGroupSpec) {
	key := "key-vim.host.PortGroup-" + spec.Name
	cfg := hs.Config.Network
	for _, pg := range cfg.Portgroup {
		if pg.Key == key {
			return
		}
	}
	cfg.Portgroup = append(append([]types.HostPortGroup(nil), cfg.Portgroup...), types.HostPortGroup{Key: key, Spec: spec})
	found := false
	for i := range cfg.Vswitch {
		if cfg.Vswitch[i].Name == spec.VswitchName {
			cfg.Vswitch[i].Portgroup = append(append([]string(nil), cfg.Vswitch[i].Portgroup...), key)
			found = true
		}
	}
	if !found {
		cfg.Vswitch = append(append([]types.HostVirtualSwitch(nil), cfg.Vswitch...), types.HostVirtualSwitch{
			Name:      spec.VswitchName,
			Key:       "key-vim.host.VirtualSwitch-" + spec.VswitchName,
			Portgroup: []string{key},
		})
	}
}

func (b *builder) buildDVSwitches(st *dcState) error {
	ctx := b.ctx
	netFolder := simulator.Map.Get(st.folders.NetworkFolder.Reference()).(*simulator.Folder)
	for _, dm := range st.model.DVSwitches {
		spec := types.DVSCreateSpec{
			ConfigSpec: &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{Name: dm.Name}},
		}
		task, err := st.folders.NetworkFolder.CreateDVS(ctx, spec)
		if err != nil {
			return err
		}
		info, err := task.WaitForResult(ctx, nil)
		if err != nil {
			return fmt.Errorf("dvswitch %s: %v", dm.Name, err)
		}
		dvsRef := info.Result.(types.ManagedObjectReference)
		dvs := object.NewDistributedVirtualSwitch(b.c, dvsRef)
		// As on vCenter, the switch lists its uplink portgroup in config.uplinkPortgroup.
		uplinkDVS := simulator.Map.Get(dvsRef).(*simulator.DistributedVirtualSwitch)
		for _, ref := range uplinkDVS.Portgroup {
			if upg, ok := simulator.Map.Get(ref).(*simulator.DistributedVirtualPortgroup); ok && strings.Contains(upg.Name, "-DVUplinks") {
				cfg := uplinkDVS.Config.GetDVSConfigInfo()
				cfg.UplinkPortgroup = append(cfg.UplinkPortgroup, ref)
			}
		}

		var members []types.DistributedVirtualSwitchHostMemberConfigSpec
		for _, h := range st.hosts {
			members = append(members, types.DistributedVirtualSwitchHostMemberConfigSpec{
				Operation: string(types.ConfigSpecOperationAdd),
				Host:      h,
			})
		}
		task, err = dvs.Reconfigure(ctx, &types.VMwareDVSConfigSpec{DVSConfigSpec: types.DVSConfigSpec{Host: members}})
		if err != nil {
			return err
		}
		if err := task.Wait(ctx); err != nil {
			return fmt.Errorf("dvswitch %s: adding hosts: %v", dm.Name, err)
		}

		var pgs []types.DVPortgroupConfigSpec
		for _, pm := range dm.Portgroups {
			setting := &types.VMwareDVSPortSetting{}
			if len(pm.Trunk) > 0 {
				var ranges []types.NumericRange
				for _, r := range pm.Trunk {
					ranges = append(ranges, types.NumericRange{Start: r.Start, End: r.End})
				}
				setting.Vlan = &types.VmwareDistributedVirtualSwitchTrunkVlanSpec{VlanId: ranges}
			} else {
				setting.Vlan = &types.VmwareDistributedVirtualSwitchVlanIdSpec{VlanId: pm.VLAN}
			}
			pgs = append(pgs, types.DVPortgroupConfigSpec{
				Name:              pm.Name,
				Type:              string(types.DistributedVirtualPortgroupPortgroupTypeEarlyBinding),
				NumPorts:          pm.Ports,
				DefaultPortConfig: setting,
			})
		}
		if len(pgs) == 0 {
			continue
		}
		task, err = dvs.AddPortgroup(ctx, pgs)
		if err != nil {
			return err
		}
		if err := task.Wait(ctx); err != nil {
			return fmt.Errorf("dvswitch %s: adding portgroups: %v", dm.Name, err)
		}
		sdvs := simulator.Map.Get(dvsRef).(*simulator.DistributedVirtualSwitch)
		for _, pm := range dm.Portgroups {
			e := simulator.Map.FindByName(pm.Name, netFolder.ChildEntity)
			pg, ok := e.(*simulator.DistributedVirtualPortgroup)
			if !ok {
				return fmt.Errorf("portgroup %s: not found after creation", pm.Name)
			}
			st.nets[pm.Name] = netTarget{ref: pg.Reference(), dvsUUID: sdvs.Uuid, pgKey: pg.Key}
		}
	}
	return nil
}

func (b *builder) vmFolder(st *dcState, p string) (*object.Folder, error) {
	if f, ok := st.vmFolders[p]; ok {
		return f, nil
	}
	parentPath, name := "", p
	if i := strings.LastIndex(p, "/"); i >= 0 {
		parentPath, name = p[:i], p[i+1:]
	}
	parent, err := b.vmFolder(st, parentPath)
	if err != nil {
		return nil, err
	}
	f, err := parent.CreateFolder(b.ctx, name)
	if err != nil {
		return nil, fmt.Errorf("folder %s: %v", p, err)
	}
	st.vmFolders[p] = f
	return f, nil
}

// stableUUID derives a UUID from names, so that re-running a model yields the
// same identifiers; lead is the first byte (VMware BIOS UUIDs start 42, instance UUIDs 50).
func stableUUID(lead byte, parts ...string) string {
	sum := sha1.Sum([]byte("ferry-lab\x00" + strings.Join(parts, "\x00")))
	u := sum[:16]
	u[0] = lead
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func stableMAC(parts ...string) string {
	sum := sha1.Sum([]byte("ferry-lab-mac\x00" + strings.Join(parts, "\x00")))
	// 00:50:56 with the fourth byte below 0x40: VMware's range for static MACs
	return fmt.Sprintf("00:50:56:%02x:%02x:%02x", sum[0]&0x3f, sum[1], sum[2])
}

func diskFileName(vmName string, index int) string {
	if index == 0 {
		return vmName + ".vmdk"
	}
	return fmt.Sprintf("%s_%d.vmdk", vmName, index)
}

func scsiController(kind string, key int32) types.BaseVirtualDevice {
	ctl := types.VirtualSCSIController{
		SharedBus: types.VirtualSCSISharingNoSharing,
		VirtualController: types.VirtualController{
			BusNumber: 0,
			VirtualDevice: types.VirtualDevice{
				Key:        key,
				DeviceInfo: &types.Description{Label: "SCSI controller 0", Summary: kind},
			},
		},
	}
	switch kind {
	case "lsilogic":
		return &types.VirtualLsiLogicController{VirtualSCSIController: ctl}
	case "lsilogic-sas":
		return &types.VirtualLsiLogicSASController{VirtualSCSIController: ctl}
	case "buslogic":
		return &types.VirtualBusLogicController{VirtualSCSIController: ctl}
	default:
		return &types.ParaVirtualSCSIController{VirtualSCSIController: ctl}
	}
}

func ethernetCard(kind string, card types.VirtualEthernetCard) types.BaseVirtualDevice {
	switch kind {
	case "e1000":
		return &types.VirtualE1000{VirtualEthernetCard: card}
	case "e1000e":
		return &types.VirtualE1000e{VirtualEthernetCard: card}
	default:
		return &types.VirtualVmxnet3{VirtualVmxnet: types.VirtualVmxnet{VirtualEthernetCard: card}}
	}
}

const (
	scsiKey     = 1000
	diskKeyBase = 2000
	nicKeyBase  = 4000
	tpmKey      = 11000
)

func (b *builder) buildVM(st *dcState, vm *vmModel) error {
	ctx := b.ctx
	dcName := st.model.Name

	folder, err := b.vmFolder(st, vm.Folder)
	if err != nil {
		return err
	}
	hostRef, ok := st.hostByName[vm.Host]
	if !ok {
		hosts := st.clusterHosts[vm.Cluster]
		hostRef = hosts[st.nextHost[vm.Cluster]%len(hosts)]
		st.nextHost[vm.Cluster]++
	}
	cluster := object.NewClusterComputeResource(b.c, st.clusterRef[vm.Cluster])
	pool, err := cluster.ResourcePool(ctx)
	if err != nil {
		return err
	}

	biosUUID := strings.ToLower(vm.UUID)
	if biosUUID == "" {
		biosUUID = stableUUID(0x42, dcName, vm.Name, "bios")
	}
	instUUID := strings.ToLower(vm.InstanceUUID)
	if instUUID == "" {
		instUUID = stableUUID(0x50, dcName, vm.Name, "instance")
	}

	cbt := vm.ChangeTracking
	spec := types.VirtualMachineConfigSpec{
		Name:                  vm.Name,
		Files:                 &types.VirtualMachineFileInfo{VmPathName: "[" + vm.Datastore + "]"},
		NumCPUs:               vm.CPUs,
		NumCoresPerSocket:     vm.CoresPerSocket,
		MemoryMB:              vm.MemoryMiB,
		Firmware:              vm.Firmware,
		Version:               vm.HWVersion,
		Uuid:                  biosUUID,
		InstanceUuid:          instUUID,
		Annotation:            vm.Annotation,
		ChangeTrackingEnabled: &cbt,
	}
	if vm.Firmware == "efi" {
		sb := vm.SecureBoot
		spec.BootOptions = &types.VirtualMachineBootOptions{EfiSecureBootEnabled: &sb}
	}
	extraKeys := make([]string, 0, len(vm.ExtraConfig))
	for k := range vm.ExtraConfig {
		extraKeys = append(extraKeys, k)
	}
	sort.Strings(extraKeys)
	for _, k := range extraKeys {
		spec.ExtraConfig = append(spec.ExtraConfig, &types.OptionValue{Key: k, Value: vm.ExtraConfig[k]})
	}

	state := &vmState{name: vm.Name, datacenter: dcName, model: vm, disks: map[int32]*diskState{}}

	add := func(dev types.BaseVirtualDevice, fileOp types.VirtualDeviceConfigSpecFileOperation) {
		spec.DeviceChange = append(spec.DeviceChange, &types.VirtualDeviceConfigSpec{
			Operation:     types.VirtualDeviceConfigSpecOperationAdd,
			FileOperation: fileOp,
			Device:        dev,
		})
	}
	if len(vm.Disks) > 0 {
		add(scsiController(vm.SCSIController, scsiKey), "")
	}
	for i, dm := range vm.Disks {
		if dm.Datastore != vm.Datastore {
			// the simulator only creates the VM directory on the VM's own datastore
			if err := os.MkdirAll(filepath.Join(b.dsDirs[dm.Datastore], vm.Name), 0o755); err != nil {
				return err
			}
		}
		unit := int32(i)
		if unit >= 7 {
			unit++ // unit 7 is the controller itself
		}
		dsRef := b.dsRefs[dm.Datastore]
		key := int32(diskKeyBase + i)
		ds := &diskState{index: i, epoch: defaultEpoch(instUUID, i), seq: 1}
		state.disks[key] = ds
		backing := &types.VirtualDiskFlatVer2BackingInfo{
			VirtualDeviceFileBackingInfo: types.VirtualDeviceFileBackingInfo{
				FileName:  fmt.Sprintf("[%s] %s/%s", dm.Datastore, vm.Name, diskFileName(vm.Name, i)),
				Datastore: &dsRef,
			},
			DiskMode:        dm.Mode,
			ThinProvisioned: types.NewBool(*dm.Thin),
			EagerlyScrub:    types.NewBool(false),
			Uuid:            stableUUID(0x60, dcName, vm.Name, "disk", fmt.Sprint(i)),
			Sharing:         dm.Sharing,
		}
		if cbt {
			backing.ChangeId = formatChangeID(ds.epoch, ds.seq)
		}
		disk := &types.VirtualDisk{
			VirtualDevice: types.VirtualDevice{
				Key:           key,
				DeviceInfo:    &types.Description{Label: fmt.Sprintf("Hard disk %d", i+1)},
				Backing:       backing,
				ControllerKey: scsiKey,
				UnitNumber:    &unit,
			},
			CapacityInKB:    dm.CapacityMiB * 1024,
			CapacityInBytes: dm.CapacityMiB * 1024 * 1024,
		}
		add(disk, types.VirtualDeviceConfigSpecFileOperationCreate)
	}
	state.nextIndex = len(vm.Disks)

	for i, nm := range vm.NICs {
		target := st.nets[nm.Network]
		var backing types.BaseVirtualDeviceBackingInfo
		if target.dvsUUID != "" {
			backing = &types.VirtualEthernetCardDistributedVirtualPortBackingInfo{
				Port: types.DistributedVirtualSwitchPortConnection{
					SwitchUuid:   target.dvsUUID,
					PortgroupKey: target.pgKey,
				},
			}
		} else {
			ref := target.ref
			backing = &types.VirtualEthernetCardNetworkBackingInfo{
				VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: nm.Network},
				Network:                        &ref,
			}
		}
		mac := nm.MAC
		if mac == "" {
			mac = stableMAC(dcName, vm.Name, fmt.Sprint(i))
		}
		card := types.VirtualEthernetCard{
			VirtualDevice: types.VirtualDevice{
				Key:        int32(nicKeyBase + i),
				DeviceInfo: &types.Description{Label: fmt.Sprintf("Network adapter %d", i+1), Summary: nm.Network},
				Backing:    backing,
				Connectable: &types.VirtualDeviceConnectInfo{
					StartConnected:    *nm.Connected,
					Connected:         *nm.Connected,
					AllowGuestControl: true,
					Status:            "ok",
				},
			},
			AddressType: string(types.VirtualEthernetCardMacTypeManual),
			MacAddress:  mac,
		}
		add(ethernetCard(nm.Type, card), "")
	}
	if vm.VTPM {
		add(&types.VirtualTPM{VirtualDevice: types.VirtualDevice{
			Key:        tpmKey,
			DeviceInfo: &types.Description{Label: "Virtual TPM", Summary: "Virtual TPM"},
		}}, "")
	}

	host := object.NewHostSystem(b.c, hostRef)
	task, err := folder.CreateVM(ctx, spec, pool, host)
	if err != nil {
		return err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return err
	}
	ref := info.Result.(types.ManagedObjectReference)

	// Re-register the VM as the lab type (embedded by value, see labVM).
	plain := simulator.Map.Get(ref).(*simulator.VirtualMachine)
	w := &labVM{VirtualMachine: *plain, lab: state}
	simulator.Map.Put(w)
	b.vms = append(b.vms, w)

	w.applyGuest(vm, st)

	for name, value := range vm.CustomAttributes {
		key, ok := b.fieldKeys[name]
		if !ok {
			def, err := b.cfm.Add(ctx, name, "VirtualMachine", nil, nil)
			if err != nil {
				return fmt.Errorf("custom attribute %s: %v", name, err)
			}
			key = def.Key
			b.fieldKeys[name] = key
		}
		if err := b.cfm.Set(ctx, ref, key, value); err != nil {
			return fmt.Errorf("custom attribute %s: %v", name, err)
		}
	}

	vmo := object.NewVirtualMachine(b.c, ref)
	switch vm.PowerState {
	case "poweredOn", "suspended":
		task, err := vmo.PowerOn(ctx)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			return fmt.Errorf("power on: %v", err)
		}
		if vm.PowerState == "suspended" {
			task, err := vmo.Suspend(ctx)
			if err == nil {
				err = task.Wait(ctx)
			}
			if err != nil {
				return fmt.Errorf("suspend: %v", err)
			}
		}
	}
	w.applyToolsState()
	return nil
}

func guestFamily(id string) string {
	switch {
	case id == "":
		return ""
	case strings.HasPrefix(id, "win"):
		return string(types.VirtualMachineGuestOsFamilyWindowsGuest)
	case strings.HasPrefix(id, "darwin"):
		return string(types.VirtualMachineGuestOsFamilyDarwinGuestFamily)
	case strings.HasPrefix(id, "solaris"):
		return string(types.VirtualMachineGuestOsFamilySolarisGuest)
	case strings.HasPrefix(id, "other") && !strings.Contains(id, "Linux"):
		return string(types.VirtualMachineGuestOsFamilyOtherGuestFamily)
	default:
		return string(types.VirtualMachineGuestOsFamilyLinuxGuest)
	}
}

// applyGuest sets the configured guest OS (any id, the simulator's own list
// is older than the ids we want) and the NICs' guest view.
func (w *labVM) applyGuest(vm *vmModel, st *dcState) {
	w.Config.GuestId = vm.GuestID
	w.Config.GuestFullName = vm.GuestFullName
	w.Summary.Config.GuestId = vm.GuestID
	w.Summary.Config.GuestFullName = vm.GuestFullName
	w.Summary.Config.HwVersion = vm.HWVersion
	w.Guest.GuestFamily = ""
	w.Guest.GuestId = ""
	w.Guest.GuestFullName = ""
	for i := range w.Guest.Net {
		n := &w.Guest.Net[i]
		if i < len(vm.NICs) {
			n.Network = vm.NICs[i].Network
			n.Connected = *vm.NICs[i].Connected
			n.IpAddress = nil
		}
	}
}

// applyToolsState fills what VMware Tools would report: full guest
// information for running VMs whose model says tools run, none otherwise.
func (w *labVM) applyToolsState() {
	vm := w.lab.model
	g := *w.Guest
	g.Net = append([]types.GuestNicInfo(nil), w.Guest.Net...)
	on := w.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn
	for i := range g.Net {
		g.Net[i].IpAddress = nil
	}
	g.IpAddress = ""
	if vm.ToolsRunning && on {
		g.GuestId = vm.GuestID
		g.GuestFullName = vm.GuestFullName
		g.GuestFamily = guestFamily(vm.GuestID)
		g.HostName = vm.Hostname
		g.GuestState = "running"
		g.ToolsStatus = types.VirtualMachineToolsStatusToolsOk
		g.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
		g.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)
		g.ToolsVersion = "12352"
		for i := range g.Net {
			if i < len(vm.NICs) && vm.NICs[i].IP != "" {
				g.Net[i].IpAddress = []string{vm.NICs[i].IP}
				if g.IpAddress == "" {
					g.IpAddress = vm.NICs[i].IP
				}
			}
		}
	} else {
		g.GuestId, g.GuestFullName, g.GuestFamily, g.HostName = "", "", "", ""
		g.GuestState = "notRunning"
		g.ToolsRunningStatus = string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
		if vm.ToolsRunning {
			g.ToolsStatus = types.VirtualMachineToolsStatusToolsNotRunning
			g.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsCurrent)
		} else {
			g.ToolsStatus = types.VirtualMachineToolsStatusToolsNotInstalled
			g.ToolsVersionStatus2 = string(types.VirtualMachineToolsVersionStatusGuestToolsNotInstalled)
			g.ToolsVersion = "0"
		}
	}
	heartbeat := types.ManagedEntityStatusGray
	if on && vm.ToolsRunning {
		heartbeat = types.ManagedEntityStatusGreen
	}
	simulator.Map.Update(w, []types.PropertyChange{
		{Name: "guest", Val: &g},
		{Name: "summary.guest", Val: &types.VirtualMachineGuestSummary{
			GuestId:             g.GuestId,
			GuestFullName:       g.GuestFullName,
			ToolsStatus:         g.ToolsStatus,
			ToolsVersionStatus2: g.ToolsVersionStatus2,
			ToolsRunningStatus:  g.ToolsRunningStatus,
			HostName:            g.HostName,
			IpAddress:           g.IpAddress,
		}},
		{Name: "summary.quickStats.guestHeartbeatStatus", Val: heartbeat},
	})
}
