// Paged property retrieval, as on vSphere: govmomi 0.24.2's simulator ignores
// RetrieveOptions.maxObjects and has no ContinueRetrievePropertiesEx. The lab's
// property collector cuts each answer to maxObjects objects and hands out the
// rest with a token, one page per ContinueRetrievePropertiesEx, until the last
// page, which carries no token. CancelRetrievePropertiesEx drops a token.

package main

import (
	"fmt"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// labPropertyCollector embeds the simulator's by value (the simulator makes a
// per-session copy of the singleton with reflect.New of this type).
type labPropertyCollector struct {
	simulator.PropertyCollector
}

type pagedResult struct {
	objects []types.ObjectContent
	max     int
}

var (
	pagesMu   sync.Mutex
	pages     = map[string]*pagedResult{}
	pageToken int
)

// page returns the first max objects and keeps the rest under a new token.
func page(objects []types.ObjectContent, max int) ([]types.ObjectContent, string) {
	if max <= 0 || len(objects) <= max {
		return objects, ""
	}
	pagesMu.Lock()
	defer pagesMu.Unlock()
	pageToken++
	token := fmt.Sprintf("lab-page-%d", pageToken)
	pages[token] = &pagedResult{objects: objects[max:], max: max}
	return objects[:max], token
}

func (pc *labPropertyCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, r)
	body, ok := res.(*methods.RetrievePropertiesExBody)
	if !ok || body.Res == nil || body.Res.Returnval == nil || r.Options.MaxObjects <= 0 {
		return res
	}
	rv := body.Res.Returnval
	rv.Objects, rv.Token = page(rv.Objects, int(r.Options.MaxObjects))
	return body
}

func (pc *labPropertyCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	body := &methods.ContinueRetrievePropertiesExBody{}
	pagesMu.Lock()
	p, ok := pages[r.Token]
	delete(pages, r.Token)
	pagesMu.Unlock()
	if !ok {
		body.Fault_ = simulator.Fault("", &types.InvalidArgument{InvalidProperty: "token"})
		return body
	}
	rv := types.RetrieveResult{}
	rv.Objects, rv.Token = page(p.objects, p.max)
	body.Res = &types.ContinueRetrievePropertiesExResponse{Returnval: rv}
	return body
}

func (pc *labPropertyCollector) CancelRetrievePropertiesEx(ctx *simulator.Context, r *types.CancelRetrievePropertiesEx) soap.HasFault {
	pagesMu.Lock()
	delete(pages, r.Token)
	pagesMu.Unlock()
	return &methods.CancelRetrievePropertiesExBody{Res: &types.CancelRetrievePropertiesExResponse{}}
}

// installPagedPropertyCollector replaces the property collector singleton;
// sessions opened from now on get per-session copies of the lab's type.
func installPagedPropertyCollector() {
	si := simulator.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	pc := &labPropertyCollector{}
	pc.Self = si.Content.PropertyCollector
	simulator.Map.Put(pc)
}
