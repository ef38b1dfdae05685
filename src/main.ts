#!/usr/bin/env node
// Placeholder entry point until the service lands.
console.log('telemetry-sidecar: core only');
