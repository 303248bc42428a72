package tlsclientconfig

import (
	"context"
	"net"
	"time"
)

// IdleTimeoutDialer wraps dial so that every connection it makes fails a
// read or a write that makes no progress for timeout: a server that accepts
// and never answers, or stops sending in the middle of a body, or stops
// reading an upload, then gives an error whose Timeout() is true instead of
// blocking forever.  Unlike http.Client.Timeout, a long transfer that keeps
// moving is never cut off.  The dial itself is bounded by timeout too.
func IdleTimeoutDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error), timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialCtx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		conn, err := dial(dialCtx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleConn{Conn: conn, timeout: timeout}, nil
	}
}

// idleConn moves its deadline forward before every read and write.
type idleConn struct {
	net.Conn
	timeout time.Duration
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *idleConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}
