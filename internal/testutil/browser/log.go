package browser

import (
	"strings"
	"sync"
)

// logBuffer keeps the last lines the browser printed (its stderr, the page's console).
type logBuffer struct {
	mu    sync.Mutex
	lines []string
	part  string
}

const maxLogLines = 200

func (l *logBuffer) add(line string) {
	if strings.Contains(line, "dbus/") {
		return // no system bus in a test container: noise
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, line)
	if len(l.lines) > maxLogLines {
		l.lines = l.lines[len(l.lines)-maxLogLines:]
	}
}

// Write takes the browser process's output.
func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	s := l.part + string(p)
	l.mu.Unlock()
	lines := strings.Split(s, "\n")
	for _, line := range lines[:len(lines)-1] {
		l.add(line)
	}
	l.mu.Lock()
	l.part = lines[len(lines)-1]
	l.mu.Unlock()
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
