package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every Linux the hub runs
// on (the kernel fixes it for user space whatever its own HZ).
const clockTicks = 100

// procWatch reads a process's CPU time and memory from /proc. With pid 0 it reads nothing.
type procWatch struct {
	pid  int
	mu   sync.Mutex
	peak int64
	done chan struct{}
	once sync.Once
}

func newProcWatch(pid int) *procWatch {
	p := &procWatch{pid: pid, done: make(chan struct{})}
	if pid > 0 {
		go p.sample()
	}
	return p
}

func (p *procWatch) sample() {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		if rss, _, err := ProcMemory(p.pid); err == nil {
			p.mu.Lock()
			p.peak = max(p.peak, rss)
			p.mu.Unlock()
		}
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

func (p *procWatch) stop() { p.once.Do(func() { close(p.done) }) }

func (p *procWatch) cpu() time.Duration {
	if p.pid == 0 {
		return 0
	}
	d, _ := ProcCPU(p.pid)
	return d
}

// cpuSince is the CPU the process used since it had used from, over wall, in % of one core.
func (p *procWatch) cpuSince(from time.Duration, wall time.Duration) float64 {
	if p.pid == 0 || wall <= 0 {
		return 0
	}
	return 100 * (p.cpu() - from).Seconds() / wall.Seconds()
}

// rss is the resident memory now and the highest seen (the kernel's high-water mark, or the
// highest sample when that is higher).
func (p *procWatch) rss() (now, peak int64) {
	if p.pid == 0 {
		return 0, 0
	}
	now, hwm, _ := ProcMemory(p.pid)
	p.mu.Lock()
	defer p.mu.Unlock()
	return now, max(hwm, p.peak, now)
}

// ProcCPU is the user plus system CPU time process pid has used.
func ProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces: skip past it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// ProcMemory is process pid's resident memory now (VmRSS) and its high-water mark (VmHWM), in
// bytes.
func ProcMemory(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s: %q", pid, k, v)
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status: %s: %w", pid, k, err)
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	if rss == 0 {
		return 0, 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return rss, hwm, nil
}
