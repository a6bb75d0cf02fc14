package simkit_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/bailiff/bailiff/drivers/internal/simkit"
)

// lamp is a device simulator built on a Server: it answers "PING\r" with "PONG\r" and
// "LAMP ON\r" with "OK\r", on every line it is served on, and misbehaves as told.
type lamp struct {
	*simkit.Server // Close, Addr, SetMode, SetDelay, Connections … come with it
}

func newLamp() *lamp { return &lamp{Server: simkit.New(simkit.Config{Name: "lampsim"})} }

// serve is the protocol: it reads commands from one line and answers them.
func (s *lamp) serve(l *simkit.Line) {
	r := bufio.NewReader(l)
	for {
		cmd, err := r.ReadString('\r')
		if err != nil {
			return // the line failed or was closed; the Server closes it
		}
		mode, ok := l.Admit() // Slow has waited its delay; DropOnce is used up
		if !ok {
			return
		}
		switch mode {
		case simkit.Silent:
			continue
		case simkit.Drop, simkit.DropOnce:
			if !l.Serial() {
				return // closes the connection
			}
			continue // a serial line cannot be closed from the device's end
		case simkit.Garbage:
			b := simkit.RandomBytes(4, 12)
			b[0] = 0x01 // never a letter: not the protocol
			l.Send(b)
			continue
		case simkit.Refuse:
			l.SendString("ERR\r")
			continue
		}
		switch strings.TrimSuffix(cmd, "\r") {
		case "PING":
			l.SendString("PONG\r")
		case "LAMP ON":
			l.SendString("OK\r")
		default:
			l.SendString("ERR\r")
		}
	}
}

// A simulator serves its protocol over TCP (ListenTCP), a new pty pair (ServePTY), an
// existing serial device (ServeSerial), UDP (ListenUDP) or a connection of the caller's
// (ServeConn, ServeLine); StartFor picks one from simreg.Options. Close ends them all.
func Example() {
	s := newLamp()
	defer s.Close()
	addr, err := s.ListenTCP("127.0.0.1:0", s.serve)
	if err != nil {
		panic(err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	ask := func(cmd string) string {
		fmt.Fprint(c, cmd+"\r")
		a, _ := r.ReadString('\r')
		return strings.TrimSuffix(a, "\r")
	}
	fmt.Println(ask("PING"))
	s.SetMode(simkit.Refuse)
	fmt.Println(ask("LAMP ON"))
	s.SetModeName("normal", simkit.Refuse) // by name, as simreg.Misbehaver does
	fmt.Println(ask("LAMP ON"))
	// Output:
	// PONG
	// ERR
	// OK
}
