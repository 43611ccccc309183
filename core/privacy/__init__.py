"""Personal data (UU PDP, Law 27/2022): retention after race day, runners' requests to see or
delete their data, and each event's privacy notice."""
