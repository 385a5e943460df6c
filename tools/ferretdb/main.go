// Command ferretdb runs FerretDB v1 (PostgreSQL or SQLite backend) embedded in a tiny main package
// of our own.
//
// Why not `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`: a binary built that way
// has no build/version/version.txt and panics at start ("Invalid build/version/version.txt file
// content"). The embeddable package skips that check when the main module is not FerretDB's own,
// and it disables telemetry and needs no state directory, which is what tests want anyway.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listenAddr := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	handler := flag.String("handler", "sqlite", "backend: postgresql or sqlite")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL connection string (postgresql handler)")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite URI of the data directory (must end with /; sqlite handler)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad --log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	if *handler != "sqlite" && *handler != "postgresql" {
		fmt.Fprintf(os.Stderr, "ferretdb: bad --handler %q: use postgresql or sqlite\n", *handler)
		os.Exit(2)
	}
	if *handler == "postgresql" && *postgresqlURL == "" {
		fmt.Fprintln(os.Stderr, "ferretdb: --handler=postgresql needs --postgresql-url")
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listenAddr},
		Logger:        logger,
		Handler:       *handler,
		PostgreSQLURL: *postgresqlURL,
		SQLiteURL:     *sqliteURL,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// The launcher waits for this line before it connects.
	fmt.Fprintf(os.Stderr, "ferretdb: listening on %s\n", *listenAddr)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}
