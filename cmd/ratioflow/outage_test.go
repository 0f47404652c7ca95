package main

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ratioflow/ratioflow/store"
)

// A store outage, two ways: for PostgreSQL, a TCP proxy in front of the
// shared server that the test cuts (never the server itself); for SQLite,
// which has no server, a store whose every call fails while it is cut.

// outage is a store a test can take down for a while.
type outage interface {
	// cut takes the store down now and brings it back after d.
	cut(d time.Duration)
}

// tcpProxy forwards loopback connections to target. While cut it drops
// every connection and closes new ones at once, as a database host that
// went away and came back.
type tcpProxy struct {
	ln     net.Listener
	target string
	down   atomic.Bool

	mu    sync.Mutex // guards conns
	conns map[net.Conn]struct{}
}

// newTCPProxy proxies to target until the test ends.
func newTCPProxy(t *testing.T, target string) *tcpProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.dropAll()
	})
	return p
}

// pgThrough returns dsn, a postgres:// URL, going through a new proxy.
func pgThrough(t *testing.T, dsn string) (string, *tcpProxy) {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p := newTCPProxy(t, u.Host)
	u.Host = p.ln.Addr().String()
	return u.String(), p
}

func (p *tcpProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			c.Close()
			continue
		}
		go p.pipe(c)
	}
}

// pipe joins c to a new connection to the target until either ends.
func (p *tcpProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	p.untrack(c, up)
}

// track registers a pair of connections, or closes them if the proxy is
// down.
func (p *tcpProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down.Load() {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *tcpProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *tcpProxy) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// cut implements outage.
func (p *tcpProxy) cut(d time.Duration) {
	p.mu.Lock()
	p.down.Store(true)
	p.mu.Unlock()
	p.dropAll()
	time.AfterFunc(d, func() { p.down.Store(false) })
}

// errStoreDown is what a cut downStore answers.
var errStoreDown = errors.New("the store is down (a test cut it)")

// downStore is a store and key store whose every call fails while it is
// cut.
type downStore struct {
	store.Store
	keys store.KeyStore
	down atomic.Bool
}

var (
	_ store.Store    = (*downStore)(nil)
	_ store.KeyStore = (*downStore)(nil)
)

// newDownStore wraps st, which must be a store.KeyStore too.
func newDownStore(t *testing.T, st store.Store) *downStore {
	keys, ok := st.(store.KeyStore)
	if !ok {
		t.Fatalf("%T keeps no idempotency keys", st)
	}
	return &downStore{Store: st, keys: keys}
}

// cut implements outage.
func (s *downStore) cut(d time.Duration) {
	s.down.Store(true)
	time.AfterFunc(d, func() { s.down.Store(false) })
}

func (s *downStore) check() error {
	if s.down.Load() {
		return errStoreDown
	}
	return nil
}

func (s *downStore) Create(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.Create(ctx, rec, history...)
}

func (s *downStore) Get(ctx context.Context, id string) (*store.Record, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.Store.Get(ctx, id)
}

func (s *downStore) Update(ctx context.Context, rec *store.Record, history ...store.HistoryEntry) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.Store.Update(ctx, rec, history...)
}

func (s *downStore) History(ctx context.Context, id string) ([]store.HistoryEntry, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.Store.History(ctx, id)
}

func (s *downStore) List(ctx context.Context, q store.Query) (store.Page, error) {
	if err := s.check(); err != nil {
		return store.Page{}, err
	}
	return s.Store.List(ctx, q)
}

func (s *downStore) ClaimExpired(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]*store.Record, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	return s.Store.ClaimExpired(ctx, now, limit, lease)
}

func (s *downStore) Purge(ctx context.Context, now time.Time, policy store.Retention) (store.PurgeResult, error) {
	if err := s.check(); err != nil {
		return store.PurgeResult{}, err
	}
	return s.Store.Purge(ctx, now, policy)
}

func (s *downStore) BeginKey(ctx context.Context, key, fingerprint string, now time.Time, lease, ttl time.Duration) (store.KeyClaim, error) {
	if err := s.check(); err != nil {
		return store.KeyClaim{}, err
	}
	return s.keys.BeginKey(ctx, key, fingerprint, now, lease, ttl)
}

func (s *downStore) FinishKey(ctx context.Context, key, token string, answer []byte) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.keys.FinishKey(ctx, key, token, answer)
}

func (s *downStore) AbandonKey(ctx context.Context, key, token string) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.keys.AbandonKey(ctx, key, token)
}

func (s *downStore) RenewKey(ctx context.Context, key, token string, now time.Time, lease time.Duration) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.keys.RenewKey(ctx, key, token, now, lease)
}
