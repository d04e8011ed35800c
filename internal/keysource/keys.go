package keysource

import "os"

var osGetenv = os.Getenv
