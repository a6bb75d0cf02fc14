package auth

// IsTechnician reports whether role may provision: edit rooms, push configs, enroll agents.
func IsTechnician(role string) bool { return role == RoleTechnician }

// CanAckAlarms reports whether role may acknowledge alarms: technicians and command-centre
// staff (monitor).
func CanAckAlarms(role string) bool { return role == RoleTechnician || role == RoleMonitor }
