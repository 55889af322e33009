// Test support: fixture paths and helpers shared by the test targets.
