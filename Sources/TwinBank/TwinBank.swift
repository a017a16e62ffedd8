// TwinBank
