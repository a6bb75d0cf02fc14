package hub

import (
	"context"
	"errors"
	"fmt"

	"github.com/bailiff/bailiff/internal/hub/alarms"
	"github.com/bailiff/bailiff/internal/hub/api"
)

// alarmAPI is the alarm service as the API drives it.
type alarmAPI struct{ s *alarms.Service }

func (a alarmAPI) List(ctx context.Context, activeOnly bool) (any, error) {
	return a.s.List(ctx, activeOnly)
}

func (a alarmAPI) Ack(ctx context.Context, id int64, by string) (any, error) {
	v, err := a.s.Ack(ctx, id, by)
	if errors.Is(err, alarms.ErrNotFound) {
		return nil, fmt.Errorf("%w: no alarm %d", api.ErrNotFound, id)
	}
	return v, err
}
