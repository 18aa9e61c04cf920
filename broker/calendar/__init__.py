"""Time, as England's children's services count it: working hours, working days and
school days across bank holidays and clock changes (`worktime`), and the broker's
clocks (`clock`: the system's, the event stream's, replay's)."""
