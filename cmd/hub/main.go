// Command hub is the Bailiff hub: MQTT broker, room state, API and panels. See `hub help`.
package main

import (
	"os"

	"github.com/bailiff/bailiff/internal/hubcli"
)

func main() {
	os.Exit(hubcli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
