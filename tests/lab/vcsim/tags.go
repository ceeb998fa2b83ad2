// vSphere tags (the vAPI tagging service): the simulator's vAPI endpoint
// under /rest serves them; the model's per-VM "tags" are created and
// attached through it once the server listens.

package main

import (
	"context"
	"fmt"
	"net/url"
	"sort"

	"github.com/vmware/govmomi/vapi/rest"
	_ "github.com/vmware/govmomi/vapi/simulator" // registers /rest on VPX simulators
	"github.com/vmware/govmomi/vapi/tags"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
)

// applyTags creates one MULTIPLE-cardinality category per category name and
// one tag per (category, name), in a stable order, and attaches them.
func applyTags(ctx context.Context, server *url.URL, username, password string, vms []*labVM) error {
	any := false
	for _, w := range vms {
		any = any || len(w.lab.model.Tags) > 0
	}
	if !any {
		return nil
	}

	u := *server
	u.User = nil
	vc, err := vim25.NewClient(ctx, soap.NewClient(&u, true)) // our own self-signed certificate
	if err != nil {
		return fmt.Errorf("tags: %v", err)
	}
	rc := rest.NewClient(vc)
	if err := rc.Login(ctx, url.UserPassword(username, password)); err != nil {
		return fmt.Errorf("tags: login: %v", err)
	}
	defer func() { _ = rc.Logout(ctx) }()
	m := tags.NewManager(rc)

	categoryIDs := map[string]string{}
	tagIDs := map[string]string{}
	for _, w := range vms {
		categories := make([]string, 0, len(w.lab.model.Tags))
		for c := range w.lab.model.Tags {
			categories = append(categories, c)
		}
		sort.Strings(categories)
		for _, c := range categories {
			cid, ok := categoryIDs[c]
			if !ok {
				cid, err = m.CreateCategory(ctx, &tags.Category{
					Name:            c,
					Cardinality:     "MULTIPLE",
					AssociableTypes: []string{"VirtualMachine"},
				})
				if err != nil {
					return fmt.Errorf("tags: category %s: %v", c, err)
				}
				categoryIDs[c] = cid
			}
			names := append([]string(nil), w.lab.model.Tags[c]...)
			sort.Strings(names)
			for _, t := range names {
				key := c + "\x00" + t
				tid, ok := tagIDs[key]
				if !ok {
					tid, err = m.CreateTag(ctx, &tags.Tag{Name: t, CategoryID: cid})
					if err != nil {
						return fmt.Errorf("tags: tag %s/%s: %v", c, t, err)
					}
					tagIDs[key] = tid
				}
				if err := m.AttachTag(ctx, tid, w.Self); err != nil {
					return fmt.Errorf("tags: attach %s/%s to %s: %v", c, t, w.Name, err)
				}
			}
		}
	}
	return nil
}
