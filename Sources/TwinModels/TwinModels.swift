// TwinModels
