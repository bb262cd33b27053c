-- Isso's schema (isso/db/threads.py, isso/db/comments.py, isso/db/preferences.py) with a
-- small site's data, written by hand for the tests.
CREATE TABLE IF NOT EXISTS preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
INSERT INTO preferences VALUES ('session-key', '8b1f0c2d9e');
CREATE TABLE IF NOT EXISTS threads (
    id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
CREATE TABLE IF NOT EXISTS comments (
    tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER,
    created FLOAT NOT NULL, modified FLOAT, mode INTEGER, remote_addr VARCHAR,
    text VARCHAR, author VARCHAR, email VARCHAR, website VARCHAR,
    likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0, voters BLOB NOT NULL,
    notification INTEGER NOT NULL DEFAULT 0);

INSERT INTO threads VALUES (1, '/2026/11/hello-espresso/', 'Hello, Espresso — a first post');
INSERT INTO threads VALUES (2, '/notes/markdown', NULL);
INSERT INTO threads VALUES (3, '/empty/', 'No comments here');

-- created 1793611800.5 is 2026-11-02T09:30:00.5Z
INSERT INTO comments VALUES (1, 1, NULL, 1793611800.5, NULL, 1, '203.0.113.0',
    'Lovely post! I prefer a *ristretto*, though.', 'Zoë Ångström', 'zoe@example.org',
    'https://zoe.example.org/', 2, 0, x'00', 1);
INSERT INTO comments VALUES (1, 2, 1, 1793613600.0, 1793614000.0, 1, '198.51.100.0',
    'Thanks, Zoë! **Ristretto** is great.', 'The Editor', NULL, NULL, 0, 0, x'00', 0);
-- Isso nests one level: a reply to 2 is stored with parent 1.
INSERT INTO comments VALUES (1, 3, 1, 1793617510.25, NULL, 2, '2001:db8:85a3::',
    'Reply to a reply: 美味しいコーヒー ☕', NULL, NULL, NULL, 0, 0, x'00', 0);
-- Deleted, but kept because it has a reply: Isso empties text and author.
INSERT INTO comments VALUES (1, 4, NULL, 1793700000.0, NULL, 4, '192.0.2.0',
    '', NULL, NULL, NULL, 0, 0, x'00', 0);
INSERT INTO comments VALUES (1, 5, 4, 1793700600.0, NULL, 1, '192.0.2.0',
    'Answering a comment that is gone now.', 'Late Reader', 'late@example.org', NULL,
    0, 0, x'00', 0);
INSERT INTO comments VALUES (2, 6, NULL, 1793800000.0, NULL, 1, '192.0.2.0',
    '# Heading

- a list
- with `code`

> and a quote', 'Markdown Fan', 'md@example.org', 'https://md.example.org', 0, 0, x'00', 0);
-- A mode Isso never writes.
INSERT INTO comments VALUES (2, 7, NULL, 1793800100.0, NULL, 8, '192.0.2.0',
    'Strange mode.', 'Odd', NULL, NULL, 0, 0, x'00', 0);
