// Command loadgen plays many room agents and API clients against one hub and reports the
// connect storm, command latency, state-update throughput, the hub's CPU and memory and every
// error by kind. See docs/BENCHMARKS.md.
//
//	loadgen provision --data DIR --agents N --creds FILE [--mosquitto DIR …]
//	loadgen run --creds FILE --hub URL [--hub-pid PID | --hub-cmd CMD] [--duration D] …
package main

import (
	"os"

	"github.com/bailiff/bailiff/internal/loadgen"
)

func main() { os.Exit(loadgen.Main(os.Args[1:], os.Stdout, os.Stderr)) }
