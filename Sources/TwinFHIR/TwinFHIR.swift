// TwinFHIR
