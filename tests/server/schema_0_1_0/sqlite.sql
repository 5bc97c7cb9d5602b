-- The schema of CAH 0.1.0 (commit d7ae8ee) as its `pakkedes init` made it: the DDL of
-- Base.metadata.create_all on sqlite, captured once from that commit's models. A database
-- built from this file stands for a real 0.1.0 install (tests/server/test_migrations.py).

CREATE TABLE clients (
	client_id VARCHAR(36) NOT NULL,
	user_id INTEGER NOT NULL,
	device_label VARCHAR(100) NOT NULL,
	token_hash VARCHAR(64) NOT NULL,
	created_at DATETIME NOT NULL,
	revoked_at DATETIME,
	last_mutation_id INTEGER DEFAULT '0' NOT NULL,
	last_sync_at DATETIME,
	last_sent_at DATETIME,
	clock_skew_seconds INTEGER,
	clock_skew_flagged BOOLEAN DEFAULT 0 NOT NULL,
	app_version VARCHAR(40),
	scope_key VARCHAR(64),
	CONSTRAINT pk_clients PRIMARY KEY (client_id)
);

CREATE INDEX ix_clients_user_id ON clients (user_id);

CREATE UNIQUE INDEX ix_clients_token_hash ON clients (token_hash);

CREATE TABLE residents (
	resident_id VARCHAR(36) NOT NULL,
	desa_code VARCHAR(10) NOT NULL,
	name VARCHAR(100) NOT NULL,
	name_key VARCHAR(100) NOT NULL,
	nik VARCHAR(16),
	kk_number VARCHAR(16),
	sex VARCHAR(10),
	birth_place VARCHAR(100),
	birth_date DATE,
	marital_status VARCHAR(10),
	address VARCHAR(200),
	rt VARCHAR(3),
	rw VARCHAR(3),
	phone VARCHAR(20),
	vulnerable_category VARCHAR(30),
	disability VARCHAR(20),
	notes TEXT,
	stage VARCHAR(20) NOT NULL,
	version INTEGER NOT NULL,
	warnings JSON NOT NULL,
	field_versions JSON NOT NULL,
	created_by_user_id INTEGER NOT NULL,
	created_by_client_id VARCHAR(36) NOT NULL,
	created_at DATETIME NOT NULL,
	updated_at DATETIME NOT NULL,
	change_seq BIGINT NOT NULL,
	operation_id INTEGER,
	kk_photo VARCHAR(64),
	verification JSON,
	rejection JSON,
	pickup JSON,
	recording JSON,
	batch_id VARCHAR(36),
	card_issue JSON,
	delivery JSON,
	merged_into VARCHAR(36),
	CONSTRAINT pk_residents PRIMARY KEY (resident_id)
);

CREATE INDEX ix_residents_duplicate_key ON residents (desa_code, birth_date, name_key);

CREATE INDEX ix_residents_nik ON residents (nik);

CREATE INDEX ix_residents_desa_code_change_seq ON residents (desa_code, change_seq);

CREATE INDEX ix_residents_batch_id ON residents (batch_id);

CREATE INDEX ix_residents_operation_id ON residents (operation_id);

CREATE INDEX ix_residents_change_seq ON residents (change_seq);

CREATE TABLE rejected_mutations (
	id INTEGER NOT NULL,
	client_id VARCHAR(36) NOT NULL,
	mutation_id INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	name VARCHAR(50) NOT NULL,
	args JSON NOT NULL,
	code VARCHAR(50) NOT NULL,
	message TEXT NOT NULL,
	fields JSON NOT NULL,
	created_at DATETIME NOT NULL,
	CONSTRAINT pk_rejected_mutations PRIMARY KEY (id),
	CONSTRAINT uq_rejected_mutations_client_id_mutation_id UNIQUE (client_id, mutation_id)
);

CREATE TABLE batches (
	batch_id VARCHAR(36) NOT NULL,
	number VARCHAR(50) NOT NULL,
	kecamatan_code VARCHAR(6) NOT NULL,
	handed_at DATETIME NOT NULL,
	created_by_user_id INTEGER NOT NULL,
	created_via VARCHAR(10) NOT NULL,
	notes TEXT,
	created_at DATETIME NOT NULL,
	collected_at DATETIME,
	CONSTRAINT pk_batches PRIMARY KEY (batch_id)
);

CREATE INDEX ix_batches_kecamatan_code ON batches (kecamatan_code);

CREATE TABLE change_counter (
	id INTEGER NOT NULL,
	value BIGINT NOT NULL,
	CONSTRAINT pk_change_counter PRIMARY KEY (id)
);

CREATE TABLE wilayah (
	code VARCHAR(10) NOT NULL,
	name VARCHAR(100) NOT NULL,
	level VARCHAR(10) NOT NULL,
	parent_code VARCHAR(10),
	CONSTRAINT pk_wilayah PRIMARY KEY (code),
	CONSTRAINT fk_wilayah_parent_code_wilayah FOREIGN KEY(parent_code) REFERENCES wilayah (code)
);

CREATE INDEX ix_wilayah_level ON wilayah (level);

CREATE INDEX ix_wilayah_parent_code ON wilayah (parent_code);

CREATE TABLE login_failures (
	id INTEGER NOT NULL,
	"key" VARCHAR(64) NOT NULL,
	at DATETIME NOT NULL,
	CONSTRAINT pk_login_failures PRIMARY KEY (id)
);

CREATE INDEX ix_login_failures_at ON login_failures (at);

CREATE INDEX ix_login_failures_key ON login_failures ("key");

CREATE TABLE audit_log (
	id INTEGER NOT NULL,
	at DATETIME NOT NULL,
	user_id INTEGER,
	kecamatan_code VARCHAR(10),
	action VARCHAR(40) NOT NULL,
	target VARCHAR(80),
	details JSON,
	CONSTRAINT pk_audit_log PRIMARY KEY (id)
);

CREATE INDEX ix_audit_log_at ON audit_log (at);

CREATE INDEX ix_audit_log_user_id ON audit_log (user_id);

CREATE INDEX ix_audit_log_kecamatan_code ON audit_log (kecamatan_code);

CREATE TABLE attachments (
	sha256 VARCHAR(64) NOT NULL,
	mime VARCHAR(20) NOT NULL,
	size INTEGER NOT NULL,
	stored_size INTEGER NOT NULL,
	data BLOB,
	user_id INTEGER NOT NULL,
	kecamatan_code VARCHAR(10) NOT NULL,
	created_at DATETIME NOT NULL,
	CONSTRAINT pk_attachments PRIMARY KEY (sha256)
);

CREATE INDEX ix_attachments_user_id ON attachments (user_id);

CREATE INDEX ix_attachments_kecamatan_code ON attachments (kecamatan_code);

CREATE TABLE attachment_uploads (
	sha256 VARCHAR(64) NOT NULL,
	"offset" BIGINT NOT NULL,
	length INTEGER NOT NULL,
	total INTEGER NOT NULL,
	mime VARCHAR(20) NOT NULL,
	data BLOB,
	user_id INTEGER NOT NULL,
	kecamatan_code VARCHAR(10) NOT NULL,
	created_at DATETIME NOT NULL,
	CONSTRAINT pk_attachment_uploads PRIMARY KEY (sha256, "offset")
);

CREATE TABLE resident_events (
	id INTEGER NOT NULL,
	resident_id VARCHAR(36) NOT NULL,
	kind VARCHAR(30) NOT NULL,
	user_id INTEGER NOT NULL,
	client_id VARCHAR(36) NOT NULL,
	mutation_id INTEGER,
	device_at DATETIME,
	server_at DATETIME NOT NULL,
	payload JSON NOT NULL,
	CONSTRAINT pk_resident_events PRIMARY KEY (id),
	CONSTRAINT uq_resident_events_client_id_mutation_id_resident_id UNIQUE (client_id, mutation_id, resident_id),
	CONSTRAINT fk_resident_events_resident_id_residents FOREIGN KEY(resident_id) REFERENCES residents (resident_id)
);

CREATE INDEX ix_resident_events_resident_id ON resident_events (resident_id);

CREATE TABLE conflicts (
	id INTEGER NOT NULL,
	kind VARCHAR(30) NOT NULL,
	resident_id VARCHAR(36) NOT NULL,
	other_resident_id VARCHAR(36),
	field VARCHAR(50),
	details JSON NOT NULL,
	status VARCHAR(10) NOT NULL,
	created_at DATETIME NOT NULL,
	kecamatan_code VARCHAR(6) NOT NULL,
	resolution JSON,
	CONSTRAINT pk_conflicts PRIMARY KEY (id),
	CONSTRAINT fk_conflicts_resident_id_residents FOREIGN KEY(resident_id) REFERENCES residents (resident_id),
	CONSTRAINT fk_conflicts_other_resident_id_residents FOREIGN KEY(other_resident_id) REFERENCES residents (resident_id)
);

CREATE INDEX ix_conflicts_kecamatan_code ON conflicts (kecamatan_code);

CREATE INDEX ix_conflicts_resident_id ON conflicts (resident_id);

CREATE TABLE batch_items (
	batch_id VARCHAR(36) NOT NULL,
	resident_id VARCHAR(36) NOT NULL,
	outcome VARCHAR(20),
	reason VARCHAR(30),
	reason_text TEXT,
	updated_at DATETIME NOT NULL,
	CONSTRAINT pk_batch_items PRIMARY KEY (batch_id, resident_id),
	CONSTRAINT fk_batch_items_batch_id_batches FOREIGN KEY(batch_id) REFERENCES batches (batch_id),
	CONSTRAINT fk_batch_items_resident_id_residents FOREIGN KEY(resident_id) REFERENCES residents (resident_id)
);

CREATE INDEX ix_batch_items_resident_id ON batch_items (resident_id);

CREATE TABLE users (
	id INTEGER NOT NULL,
	username VARCHAR(64) NOT NULL,
	full_name VARCHAR(120) NOT NULL,
	role VARCHAR(16) NOT NULL,
	kecamatan_code VARCHAR(10) NOT NULL,
	password_hash VARCHAR(255) NOT NULL,
	active BOOLEAN NOT NULL,
	created_at DATETIME NOT NULL,
	CONSTRAINT pk_users PRIMARY KEY (id),
	CONSTRAINT uq_users_username UNIQUE (username),
	CONSTRAINT fk_users_kecamatan_code_wilayah FOREIGN KEY(kecamatan_code) REFERENCES wilayah (code)
);

CREATE TABLE operations (
	id INTEGER NOT NULL,
	kecamatan_code VARCHAR(10) NOT NULL,
	name VARCHAR(120) NOT NULL,
	start_date DATE NOT NULL,
	end_date DATE NOT NULL,
	step_minutes JSON NOT NULL,
	created_by INTEGER,
	created_at DATETIME NOT NULL,
	active BOOLEAN NOT NULL,
	CONSTRAINT pk_operations PRIMARY KEY (id),
	CONSTRAINT fk_operations_kecamatan_code_wilayah FOREIGN KEY(kecamatan_code) REFERENCES wilayah (code)
);

CREATE INDEX ix_operations_kecamatan_code ON operations (kecamatan_code);

CREATE TABLE assignments (
	id INTEGER NOT NULL,
	user_id INTEGER NOT NULL,
	desa_code VARCHAR(10) NOT NULL,
	created_at DATETIME NOT NULL,
	CONSTRAINT pk_assignments PRIMARY KEY (id),
	CONSTRAINT uq_assignments_user_id_desa_code UNIQUE (user_id, desa_code),
	CONSTRAINT fk_assignments_user_id_users FOREIGN KEY(user_id) REFERENCES users (id),
	CONSTRAINT fk_assignments_desa_code_wilayah FOREIGN KEY(desa_code) REFERENCES wilayah (code)
);

CREATE INDEX ix_assignments_user_id ON assignments (user_id);

CREATE TABLE operation_desa (
	operation_id INTEGER NOT NULL,
	desa_code VARCHAR(10) NOT NULL,
	target INTEGER NOT NULL,
	CONSTRAINT pk_operation_desa PRIMARY KEY (operation_id, desa_code),
	CONSTRAINT fk_operation_desa_operation_id_operations FOREIGN KEY(operation_id) REFERENCES operations (id),
	CONSTRAINT fk_operation_desa_desa_code_wilayah FOREIGN KEY(desa_code) REFERENCES wilayah (code)
);
