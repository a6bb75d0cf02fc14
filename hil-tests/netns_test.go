package hiltests

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// netns is a network namespace made by the test, linked to the host by a veth pair with
// addresses in 10.99.0.0/16: the agent runs inside it, the hub listens on the host's end.
type netns struct {
	t            *testing.T
	name         string
	hostIf, nsIf string
	hostIP, nsIP string
}

// ipCmd runs ip(8) and fails the test, loudly, when it cannot: the test needs root.
func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s (network namespaces need root and iproute2; CI runs the hil-tests as root)",
			strings.Join(args, " "), err, out)
	}
}

// newNetns makes the namespace and the veth pair; both are deleted when the test ends,
// failed or not.
func newNetns(t *testing.T) *netns {
	t.Helper()
	sweepNetns()
	id := os.Getpid()
	n := &netns{t: t, name: fmt.Sprintf("%s%d", netnsPrefix, id),
		hostIf: fmt.Sprintf("bfh%d", id), nsIf: fmt.Sprintf("bfn%d", id)}
	// A /30 of 10.99.0.0/16 that no interface of the host uses yet.
	used, _ := exec.Command("ip", "-4", "-o", "addr").Output()
	for x := 100 + id%100; x < 100+id%100+256; x++ {
		n.hostIP, n.nsIP = fmt.Sprintf("10.99.%d.1", x%256), fmt.Sprintf("10.99.%d.2", x%256)
		if !strings.Contains(string(used), fmt.Sprintf("10.99.%d.", x%256)) {
			break
		}
	}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", n.name).Run()
		exec.Command("ip", "link", "del", n.hostIf).Run()
	})
	ipCmd(t, "netns", "add", n.name)
	ipCmd(t, "link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf)
	ipCmd(t, "link", "set", n.nsIf, "netns", n.name)
	ipCmd(t, "addr", "add", n.hostIP+"/30", "dev", n.hostIf)
	ipCmd(t, "link", "set", n.hostIf, "up")
	ipCmd(t, "-n", n.name, "addr", "add", n.nsIP+"/30", "dev", n.nsIf)
	ipCmd(t, "-n", n.name, "link", "set", n.nsIf, "up")
	ipCmd(t, "-n", n.name, "link", "set", "lo", "up")
	return n
}

const netnsPrefix = "bailiff-fault-"

// sweepNetns deletes what an earlier test process killed before its cleanup left behind: the
// namespaces (and their veth pairs) named after a process that no longer runs.
func sweepNetns() {
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, l := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(l), " ")
		pid, ok := strings.CutPrefix(name, netnsPrefix)
		if !ok || pid == "" {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue // its test is still running
		}
		exec.Command("ip", "netns", "del", name).Run()
		exec.Command("ip", "link", "del", "bfh"+pid).Run()
	}
}

// exec is the command prefix that runs a program inside the namespace.
func (n *netns) exec() []string {
	ip, err := exec.LookPath("ip")
	if err != nil {
		n.t.Fatal("ip(8) not found: install iproute2")
	}
	return []string{ip, "netns", "exec", n.name}
}

// partition cuts the link (the namespace's end goes down: nothing passes either way, and
// neither end is told, as when a cable is pulled between two switches); heal restores it.
func (n *netns) partition() { n.t.Helper(); ipCmd(n.t, "-n", n.name, "link", "set", n.nsIf, "down") }
func (n *netns) heal()      { n.t.Helper(); ipCmd(n.t, "-n", n.name, "link", "set", n.nsIf, "up") }
