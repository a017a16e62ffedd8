// TwinSBML
