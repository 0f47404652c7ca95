package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTime is the processor time spent so far by the bench's own process
// (the engine, the in-process sandbox, the baselines' clients) and by the
// whole machine (that, plus the database and anything else running).
type cpuTime struct {
	process, machine time.Duration
	machineKnown     bool // the machine's time is read from Linux's /proc/stat
}

// readCPU samples the processor time used so far.
func readCPU() cpuTime {
	var t cpuTime
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		t.process = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	t.machine, t.machineKnown = machineBusy()
	return t
}

// sub returns the time spent between u and t.
func (t cpuTime) sub(u cpuTime) cpuTime {
	return cpuTime{process: t.process - u.process, machine: t.machine - u.machine,
		machineKnown: t.machineKnown && u.machineKnown}
}

// add returns t and u together; the zero cpuTime adds nothing.
func (t cpuTime) add(u cpuTime) cpuTime {
	if t == (cpuTime{}) {
		return u
	}
	return cpuTime{process: t.process + u.process, machine: t.machine + u.machine,
		machineKnown: t.machineKnown && u.machineKnown}
}

// userHZ is the unit of /proc/stat's times: Linux reports them in 1/100 s
// on every architecture (USER_HZ).
const userHZ = 100

// machineBusy returns the processor time all CPUs spent busy since boot:
// the first line of /proc/stat, less idle and iowait.
func machineBusy() (time.Duration, bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, false
	}
	var busy int64
	for i, f := range fields[1:] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, false
		}
		// user nice system idle iowait irq softirq steal guest guest_nice;
		// guest time is counted in user time already.
		if i == 3 || i == 4 || i >= 8 {
			continue
		}
		busy += n
	}
	return time.Duration(busy) * time.Second / userHZ, true
}

// perFlow returns d spread over n flows, in milliseconds.
func perFlow(d time.Duration, n int) float64 {
	if n == 0 {
		return 0
	}
	return float64(d) / float64(time.Millisecond) / float64(n)
}
