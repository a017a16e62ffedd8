// TwinBankSQLite
