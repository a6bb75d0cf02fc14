package escpossim

import (
	"fmt"

	"github.com/bailiff/bailiff/drivers/simreg"
)

func init() {
	simreg.Register("escpos", func(o simreg.Options) (simreg.Sim, error) {
		s := New(Config{Logger: o.Logger})
		var err error
		switch o.Transport {
		case "", "tcp":
			_, err = s.Listen("127.0.0.1:0")
		case "serial":
			_, err = s.ServePTY() // a pty takes any baud rate the driver asks for
		default:
			err = fmt.Errorf("ESC/POS runs over TCP or serial, not %s", o.Transport)
		}
		if err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	})
}
