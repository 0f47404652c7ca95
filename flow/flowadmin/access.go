package flowadmin

import (
	"net"
	"net/http"
	"strings"
)

// LoopbackOnly wraps h, served on a loopback address, so that it answers
// only requests addressed to a loopback host (the Host header: localhost,
// 127.0.0.1, [::1], ...) and refuses the others with 421 Misdirected
// Request. A web page the operator visits could otherwise reach it by
// pointing a name of its own at 127.0.0.1 (DNS rebinding) and read the
// answers as its own.
func LoopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackHost(r.Host) {
			http.Error(w, "this listener answers only requests addressed to a loopback host", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether host, with or without a port, names the
// local machine.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
