// vcsim is ferry's lab vSphere: govmomi's simulator with an inventory built
// from a JSON model, datastores in local directories, and changed block
// tracking (QueryChangedDiskAreas) answered from test-controlled files.
//
// Build (Debian's Go and govmomi, no network):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o vcsim .
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
)

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetPrefix("vcsim: ")

	listen := flag.String("listen", "127.0.0.1:0", "loopback address:port to serve on (port 0 picks a free port)")
	modelPath := flag.String("model", "", "JSON model of the inventory (required)")
	dsDir := flag.String("datastore-dir", "", "directory holding one subdirectory per datastore (default: a temporary directory)")
	chDir := flag.String("changes", "", "directory of change lists: <dir>/<vm>/disk<N>.json")
	envPath := flag.String("env", "", "write KEY='value' lines here once serving (default: stdout)")
	username := flag.String("username", "user", "the only accepted user name")
	password := flag.String("password", "pass", "the only accepted password")
	useTLS := flag.Bool("tls", true, "serve HTTPS with a fresh self-signed certificate")
	pageSize := flag.Int("page-size", 2000, "at most this many areas per QueryChangedDiskAreas answer")
	trace := flag.Bool("trace", false, "log SOAP traffic to stderr")
	flag.BoolVar(&snapshotDeltas, "snapshot-deltas", false, "snapshots move each disk to a new delta VMDK (qemu-img), as ESXi does")
	flag.Parse()

	if err := run(*listen, *modelPath, *dsDir, *chDir, *envPath, *username, *password, *useTLS, *pageSize, *trace); err != nil {
		log.Printf("error: %v", err)
		os.Exit(1)
	}
}

func run(listen, modelPath, dsDir, chDir, envPath, username, password string, useTLS bool, pageSize int, trace bool) error {
	started := time.Now()
	if modelPath == "" {
		return fmt.Errorf("-model is required")
	}
	if flag.NArg() != 0 {
		return fmt.Errorf("unexpected arguments: %v", flag.Args())
	}
	if username == "" || password == "" {
		return fmt.Errorf("-username and -password must not be empty")
	}
	if pageSize < 1 {
		return fmt.Errorf("-page-size must be positive")
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen: %v", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen: %q is not a loopback IP address", host)
	}

	model, err := loadModel(modelPath)
	if err != nil {
		return err
	}

	tempDS := false
	if dsDir == "" {
		if dsDir, err = ioutil.TempDir("", "ferry-vcsim-ds-"); err != nil {
			return err
		}
		tempDS = true
	} else if err := os.MkdirAll(dsDir, 0o755); err != nil {
		return err
	}
	if dsDir, err = filepath.Abs(dsDir); err != nil {
		return err
	}
	if chDir != "" {
		if changesDir, err = filepath.Abs(chDir); err != nil {
			return err
		}
	}
	maxAreas = pageSize
	simulator.Trace = trace

	// An empty vCenter: every count at zero, the inventory comes from the model.
	sim := simulator.VPX()
	sim.Datacenter = 0
	sim.Portgroup = 0
	sim.Host = 0
	sim.Cluster = 0
	sim.ClusterHost = 0
	sim.Datastore = 0
	sim.Machine = 0
	sim.Autostart = false
	if err := sim.Create(); err != nil {
		return err
	}

	var b *builder
	cleanup := func() {
		sim.Remove()
		if b != nil {
			for _, d := range b.madeDirs {
				_ = os.RemoveAll(d)
			}
		}
		if tempDS {
			_ = os.RemoveAll(dsDir)
		}
	}

	ctx := context.Background()
	client, err := vim25.NewClient(ctx, sim.Service)
	if err != nil {
		cleanup()
		return err
	}
	b = newBuilder(ctx, client, dsDir)
	if err := b.build(model); err != nil {
		cleanup()
		return err
	}
	installPagedPropertyCollector()
	built := time.Since(started)

	sim.Service.Listen = &url.URL{Host: listen, User: url.UserPassword(username, password)}
	var certDER []byte
	if useTLS {
		cert, err := selfSignedCert()
		if err != nil {
			cleanup()
			return err
		}
		certDER = cert.Certificate[0]
		sim.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	sim.Service.RegisterEndpoints = true // vAPI under /rest: tags (tags.go)
	srv := sim.Service.NewServer()
	if err := applyTags(ctx, srv.URL, username, password, b.vms); err != nil {
		srv.Close()
		cleanup()
		return err
	}

	sdkURL := *srv.URL
	sdkURL.User = nil
	env := [][2]string{
		{"VCSIM_URL", sdkURL.String()},
		{"VCSIM_USERNAME", username},
		{"VCSIM_PASSWORD", password},
		{"VCSIM_PID", fmt.Sprint(os.Getpid())},
	}
	base := strings.TrimSuffix(envPath, filepath.Ext(envPath))
	if envPath == "" {
		if base, err = filepath.Abs("vcsim"); err != nil {
			srv.Close()
			cleanup()
			return err
		}
	} else if base, err = filepath.Abs(base); err != nil {
		srv.Close()
		cleanup()
		return err
	}
	if useTLS {
		sum := sha256.Sum256(certDER)
		certPath := base + "-cert.pem"
		pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})
		if err := writeAtomic(certPath, pemData); err != nil {
			srv.Close()
			cleanup()
			return err
		}
		env = append(env, [2]string{"VCSIM_FINGERPRINT", hex.EncodeToString(sum[:])}, [2]string{"VCSIM_CERT", certPath})
	}
	disksPath := base + "-disks.json"
	disks := describeDisks(b)
	data, _ := json.MarshalIndent(disks, "", "  ")
	if err := writeAtomic(disksPath, append(data, '\n')); err != nil {
		srv.Close()
		cleanup()
		return err
	}
	mounts, _ := json.Marshal(b.dsDirs)
	env = append(env,
		[2]string{"VCSIM_DISKS", disksPath},
		[2]string{"VCSIM_DATASTORE_DIR", dsDir},
		[2]string{"VCSIM_DATASTORE_MOUNTS", string(mounts)},
		[2]string{"VCSIM_CHANGES_DIR", changesDir},
		[2]string{"VCSIM_VM_COUNT", fmt.Sprint(len(b.vms))},
	)
	var envText strings.Builder
	for _, kv := range env {
		fmt.Fprintf(&envText, "%s=%s\n", kv[0], shellQuote(kv[1]))
	}
	if envPath == "" {
		fmt.Print(envText.String())
	} else if err := writeAtomic(envPath, []byte(envText.String())); err != nil {
		srv.Close()
		cleanup()
		return err
	}
	log.Printf("serving %s: %d datacenters, %d VMs, %d disks; ready in %v (inventory %v)",
		sdkURL.String(), len(model.Datacenters), len(b.vms), len(disks), time.Since(started).Round(time.Millisecond), built.Round(time.Millisecond))

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	for sig := range sigs {
		if sig == syscall.SIGHUP {
			reloadAll(b.vms)
			log.Printf("SIGHUP: change files re-read")
			continue
		}
		log.Printf("%v: stopping", sig)
		break
	}
	signal.Stop(sigs)
	srv.Close()
	cleanup()
	return nil
}

// diskInfo is one entry of the VCSIM_DISKS file.
type diskInfo struct {
	VM             string `json:"vm"`
	Moref          string `json:"moref"`
	UUID           string `json:"uuid"`
	InstanceUUID   string `json:"instance_uuid"`
	Datacenter     string `json:"datacenter"`
	DiskIndex      int    `json:"disk_index"`
	Label          string `json:"label"`
	DeviceKey      int32  `json:"device_key"`
	CapacityBytes  int64  `json:"capacity_bytes"`
	Backing        string `json:"backing"`
	Datastore      string `json:"datastore"`
	DescriptorPath string `json:"descriptor_path"`
	FlatPath       string `json:"flat_path"`
	ChangesPath    string `json:"changes_path,omitempty"`
	ChangeID       string `json:"change_id,omitempty"`
	DiskMode       string `json:"disk_mode"`
	Sharing        string `json:"sharing,omitempty"`
	Thin           bool   `json:"thin"`
}

func describeDisks(b *builder) []diskInfo {
	out := []diskInfo{}
	for _, w := range b.vms {
		for _, d := range w.disks() {
			bk := flatBacking(d)
			if bk == nil {
				continue
			}
			ds := w.diskState(d)
			desc, _ := w.localPath(bk.FileName)
			info := diskInfo{
				VM:             w.Name,
				Moref:          w.Self.Value,
				UUID:           w.Config.Uuid,
				InstanceUUID:   w.Config.InstanceUuid,
				Datacenter:     w.lab.datacenter,
				DiskIndex:      ds.index,
				DeviceKey:      d.Key,
				CapacityBytes:  diskCapacity(d),
				Backing:        bk.FileName,
				DescriptorPath: desc,
				FlatPath:       strings.TrimSuffix(desc, ".vmdk") + "-flat.vmdk",
				ChangesPath:    changesPath(w.lab.name, ds.index),
				ChangeID:       bk.ChangeId,
				DiskMode:       bk.DiskMode,
				Sharing:        bk.Sharing,
				Thin:           bk.ThinProvisioned != nil && *bk.ThinProvisioned,
			}
			if d.DeviceInfo != nil {
				info.Label = d.DeviceInfo.GetDescription().Label
			}
			if bk.Datastore != nil {
				if sds, ok := simulator.Map.Get(*bk.Datastore).(*simulator.Datastore); ok {
					info.Datastore = sds.Name
				}
			}
			out = append(out, info)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].VM != out[j].VM {
			return out[i].VM < out[j].VM
		}
		return out[i].DiskIndex < out[j].DiskIndex
	})
	return out
}

func shellQuote(s string) string {
	return "'" + strings.Replace(s, "'", `'\''`, -1) + "'"
}

// writeAtomic writes via a temporary file in the same directory and a rename,
// so a reader never sees a partial file.
func writeAtomic(path string, data []byte) error {
	f, err := ioutil.TempFile(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// selfSignedCert makes a fresh P-256 certificate for 127.0.0.1, ::1 and localhost.
func selfSignedCert() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "vcsim.ferry.lab", Organization: []string{"ferry lab"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
