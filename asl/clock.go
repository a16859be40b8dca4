package asl

import (
	"context"
	"sync"
	"time"
)

// Clock is the engine's source of time: history timestamps, Wait states,
// retry intervals and timeouts all go through it.
type Clock interface {
	Now() time.Time
	// Sleep waits for d (in workflow time) or until ctx is done, in which
	// case it returns ctx.Err().
	Sleep(ctx context.Context, d time.Duration) error
}

// TimeoutClock is an optional Clock extension: if a Clock implements it,
// TimeoutSeconds and HeartbeatSeconds are measured with SleepTimeout
// instead of Sleep. NewScaledClock(0) uses it so that skipped waits do not
// make every task time out at once.
type TimeoutClock interface {
	SleepTimeout(ctx context.Context, d time.Duration) error
}

// ScaledClock is a real-time clock whose waits are scaled: a Wait of d
// sleeps d*scale. Scale 1 is real time; 0 skips waits entirely. Skipped
// and shortened waits still advance Now by their full length, so history
// timestamps look as they would on AWS.
type ScaledClock struct {
	scale float64
	mu    sync.Mutex
	skew  time.Duration // workflow time gained by scaled-down sleeps
}

// NewScaledClock returns a ScaledClock. A negative scale is treated as 0.
func NewScaledClock(scale float64) *ScaledClock {
	if scale < 0 {
		scale = 0
	}
	return &ScaledClock{scale: scale}
}

// Now returns the real time plus the time skipped by scaled sleeps.
func (c *ScaledClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

// Sleep sleeps d*scale of real time.
func (c *ScaledClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	real := time.Duration(float64(d) * c.scale)
	if err := sleepReal(ctx, real); err != nil {
		return err
	}
	c.mu.Lock()
	c.skew += d - real
	c.mu.Unlock()
	return nil
}

// SleepTimeout measures a task timeout: scaled like Sleep, but with scale
// 0 it uses real time (instant workflows still honour a stuck task's
// timeout).
func (c *ScaledClock) SleepTimeout(ctx context.Context, d time.Duration) error {
	if c.scale == 0 {
		return sleepReal(ctx, d)
	}
	return sleepReal(ctx, time.Duration(float64(d)*c.scale))
}

func sleepReal(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

var (
	_ Clock        = (*ScaledClock)(nil)
	_ TimeoutClock = (*ScaledClock)(nil)
)
