package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// progress draws a progress bar on a terminal. A nil *progress, what
// newProgress returns for anything else, draws nothing.
type progress struct {
	w            io.Writer
	label        string
	total        int
	count        atomic.Int64
	start        time.Time
	stop, closed chan struct{}
}

// newProgress returns a bar for total jobs on w if w is a terminal, else nil.
func newProgress(w io.Writer, label string, total int) *progress {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	p := &progress{w: w, label: label, total: total, start: time.Now(), stop: make(chan struct{}), closed: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progress) add() {
	if p != nil {
		p.count.Add(1)
	}
}

// done draws the bar a last time and ends its line.
func (p *progress) done() {
	if p == nil {
		return
	}
	close(p.stop)
	<-p.closed
}

func (p *progress) loop() {
	defer close(p.closed)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			p.draw()
			fmt.Fprintln(p.w)
			return
		case <-t.C:
			p.draw()
		}
	}
}

func (p *progress) draw() {
	const width = 30
	n := int(p.count.Load())
	filled := width * n / max(p.total, 1)
	rate := float64(n) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d flows, %.0f/s ", p.label, strings.Repeat("#", filled),
		strings.Repeat(" ", width-filled), n, p.total, rate)
}
