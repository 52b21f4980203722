"""ARM handlers, one module per provider; each class binds its handlers to one ArmState."""
