// Filled in by its own work item; re-exported from the package index.
export {};
