package web

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"
)

// requestIDKey keys the request id on a request's context.
type requestIDKey struct{}

// keepRequestID puts the id the RequestID middleware chose on the request's
// context, so every log line written with that context carries it.
func keepRequestID(c echo.Context, id string) {
	r := c.Request()
	c.SetRequest(r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
}

// requestIDHandler adds request_id to each record logged with a request's
// context, so a logon or a settings change can be matched to its request
// line without every call site naming the id.
type requestIDHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok && id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
