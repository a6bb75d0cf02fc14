// Package web holds the pages the hub serves, embedded in the hub binary. They load nothing
// from outside the hub.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// JoinPath is where an invite link points (the hub's JoinPath): the visitor's page.
const JoinPath = "/join"

// Handler serves the pages.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if r.URL.Path == JoinPath {
			// An invite link: /join#TOKEN opens the visitor's page (the token stays in the
			// fragment, which the browser never sends).
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/join.html"
			files.ServeHTTP(w, r2)
			return
		}
		files.ServeHTTP(w, r)
	})
}
