// TwinSync
