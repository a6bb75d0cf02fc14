package gpio_test

import (
	"errors"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/pin"
)

// fakePin stands in for periph's gpiotest.Pin, with the same fields and behaviour: L is the
// level, read and written; EdgesChan fakes edges, WaitForEdge setting L to the level it
// receives; In with an edge fails while EdgesChan is nil; In with PullUp or PullDown sets L.
// gpiotest itself cannot be imported here: it needs github.com/jonboulle/clockwork, which
// go.mod does not list (it is in go.sum, as periph.io/x/conn/v3 requires it). With that line
// in go.mod, gpiotest.Pin replaces fakePin in these tests as it is.
type fakePin struct {
	N string

	sync.Mutex
	L         gpio.Level
	P         gpio.Pull
	EdgesChan chan gpio.Level
	// Not in gpiotest: OutErr makes Out fail; Outs records the levels written.
	OutErr error
	Outs   []gpio.Level
}

var _ gpio.PinIO = (*fakePin)(nil)

func (p *fakePin) String() string                        { return p.N }
func (p *fakePin) Halt() error                           { return nil }
func (p *fakePin) Name() string                          { return p.N }
func (p *fakePin) Number() int                           { return -1 }
func (p *fakePin) Function() string                      { return "" }
func (p *fakePin) Func() pin.Func                        { return "" }
func (p *fakePin) SupportedFuncs() []pin.Func            { return []pin.Func{gpio.IN, gpio.OUT} }
func (p *fakePin) SetFunc(pin.Func) error                { return errors.New("fake: not supported") }
func (p *fakePin) DefaultPull() gpio.Pull                { return p.Pull() }
func (p *fakePin) PWM(gpio.Duty, physic.Frequency) error { return errors.New("fake: no PWM") }

func (p *fakePin) In(pull gpio.Pull, edge gpio.Edge) error {
	p.Lock()
	defer p.Unlock()
	p.P = pull
	if pull == gpio.PullDown {
		p.L = gpio.Low
	} else if pull == gpio.PullUp {
		p.L = gpio.High
	}
	if edge != gpio.NoEdge && p.EdgesChan == nil {
		return errors.New("fake: please set p.EdgesChan first")
	}
	for {
		select {
		case <-p.EdgesChan:
		default:
			return nil
		}
	}
}

func (p *fakePin) Read() gpio.Level {
	p.Lock()
	defer p.Unlock()
	return p.L
}

func (p *fakePin) WaitForEdge(timeout time.Duration) bool {
	if timeout == -1 {
		p.Out(<-p.EdgesChan)
		return true
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-t.C:
		return false
	case l := <-p.EdgesChan:
		p.set(l)
		return true
	}
}

func (p *fakePin) Pull() gpio.Pull {
	p.Lock()
	defer p.Unlock()
	return p.P
}

func (p *fakePin) Out(l gpio.Level) error {
	p.Lock()
	defer p.Unlock()
	if p.OutErr != nil {
		return p.OutErr
	}
	p.L = l
	p.Outs = append(p.Outs, l)
	return nil
}

// set changes the level as an edge does (gpiotest's WaitForEdge calls Out; this does the
// same without recording an output).
func (p *fakePin) set(l gpio.Level) {
	p.Lock()
	defer p.Unlock()
	p.L = l
}

func (p *fakePin) outs() []gpio.Level {
	p.Lock()
	defer p.Unlock()
	return append([]gpio.Level(nil), p.Outs...)
}
