// TwinCore
