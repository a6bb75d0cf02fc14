package gpio_test

import (
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"
)

// fakePin is periph's gpiotest.Pin, recording what the driver drives it to (Outs) and able to
// refuse (OutErr). Edges come through EdgesChan as with gpiotest.Pin.
type fakePin struct {
	*gpiotest.Pin
	OutErr error
	Outs   []gpio.Level // guarded by the Pin's mutex
}

var _ gpio.PinIO = (*fakePin)(nil)

func newFakePin(p *gpiotest.Pin) *fakePin { return &fakePin{Pin: p} }

// Out records the level and sets it, unless OutErr says the pin refuses.
func (p *fakePin) Out(l gpio.Level) error {
	p.Lock()
	if p.OutErr != nil {
		err := p.OutErr
		p.Unlock()
		return err
	}
	p.Outs = append(p.Outs, l)
	p.Unlock()
	return p.Pin.Out(l)
}

func (p *fakePin) outs() []gpio.Level {
	p.Lock()
	defer p.Unlock()
	return append([]gpio.Level(nil), p.Outs...)
}

// set changes the level as a button on the line does, without recording an output.
func (p *fakePin) set(l gpio.Level) {
	p.Lock()
	defer p.Unlock()
	p.L = l
}
