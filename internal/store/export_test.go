package store

// FromDriver exposes the marking of the driver's network errors.
var FromDriver = fromDriver
