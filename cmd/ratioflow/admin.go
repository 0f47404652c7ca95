package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/ratioflow/ratioflow/flow"
	"github.com/ratioflow/ratioflow/flow/flowadmin"
	"github.com/ratioflow/ratioflow/flow/flowconsole"
	"github.com/ratioflow/ratioflow/store"
)

// adminOff is the --admin-addr that serves no admin listener.
const adminOff = "off"

// checkAdmin checks the admin listener's flags: an address other hosts
// can reach needs a token, and the admin listener cannot share the
// public one's address.
func checkAdmin(c *serveConfig) error {
	if c.adminAddr == adminOff {
		return nil
	}
	host, port, err := net.SplitHostPort(c.adminAddr)
	if err != nil {
		return usageErrorf("serve", "--admin-addr %q: %v (or --admin-addr %s for no admin listener)", c.adminAddr, err, adminOff)
	}
	if c.adminToken == "" && !isLoopback(host) {
		return usageErrorf("serve", "--admin-addr %q is reachable from other hosts: give --admin-token (or %s), "+
			"the bearer token every admin request must carry, or use 127.0.0.1", c.adminAddr, envName("admin-token", nil))
	}
	if port != "0" && c.adminAddr == c.addr {
		return usageErrorf("serve", "--admin-addr %q is --addr too: the admin listener needs an address of its own", c.adminAddr)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// adminHandler is what the admin listener serves: the operator console
// at /console/ (GET / leads there) and its admin API at /admin/, nothing
// else. On a loopback address it answers only requests addressed to a
// loopback host.
func adminHandler(c *serveConfig, eng *flow.Engine, st store.Store, log *slog.Logger) (http.Handler, error) {
	console, err := flowconsole.New(c.mermaidJS)
	if err != nil {
		return nil, usageErrorf("serve", "--mermaid-js %q: neither an http(s) URL nor a readable file: %v", c.mermaidJS, errors.Unwrap(err))
	}
	api := flowadmin.New(eng, st)
	api.Token, api.Logger = c.adminToken, log
	mux := http.NewServeMux()
	mux.Handle(flowconsole.Prefix, console)
	mux.Handle(flowadmin.Prefix, api)
	mux.Handle("GET /{$}", http.RedirectHandler(flowconsole.Prefix, http.StatusFound))
	host, _, _ := net.SplitHostPort(c.adminAddr)
	if isLoopback(host) {
		return flowadmin.LoopbackOnly(mux), nil
	}
	return mux, nil
}

// isAdminPath reports whether path is one of the admin listener's, which
// the public listener answers 404.
func isAdminPath(path string) bool {
	for _, p := range []string{flowconsole.Prefix, flowadmin.Prefix} {
		if strings.HasPrefix(path, p) || path+"/" == p {
			return true
		}
	}
	return false
}
