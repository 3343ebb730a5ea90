module switchyard.local/kind/runc-shim

go 1.24
