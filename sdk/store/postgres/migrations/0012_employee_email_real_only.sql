-- stepgraph PostgreSQL graph sink: the employee email index holds real
-- employees only.
--
-- The user -> person rule looks up real employees (of any instance but the
-- mapped pseudo-instance 0) by email; the placeholder people it creates in
-- instance 0 are found by key (employee:<email>). Their index entries were
-- read by nothing and cost about 0.1 s of server CPU per 100,000
-- placeholders a first load's after-sync creates.
DROP INDEX entity_employee_email;
CREATE INDEX entity_employee_email ON entity (lower(properties ->> 'email'))
    WHERE type = 'employee' AND properties ? 'email' AND instance_id <> 0;
