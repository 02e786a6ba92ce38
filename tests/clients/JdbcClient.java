// MariaDB Connector/J against a running `tributary serve` (port in args[0]):
// connect with and without a database, DatabaseMetaData, a
// PreparedStatement, getScale() of a DECIMAL, MySQL error codes. Exits
// non-zero with what it got when a check fails.
import java.sql.*;
import java.util.*;

public class JdbcClient {
    static void check(boolean ok, String what) {
        if (!ok) throw new AssertionError(what);
    }

    public static void main(String[] args) throws Exception {
        String base = "jdbc:mariadb://127.0.0.1:" + args[0] + "/";
        try (Connection none = DriverManager.getConnection(base, "root", "")) {
            try (Statement s = none.createStatement()) {
                s.execute("CREATE DATABASE jdbc");
                s.execute("CREATE TABLE jdbc.t (id INT NOT NULL, amount DECIMAL(10,2), name VARCHAR(20))");
                s.execute("INSERT INTO jdbc.t VALUES (1, 12.50, 'a'), (2, 3.25, 'b')");
            }
        }
        try (Connection c = DriverManager.getConnection(base + "jdbc", "root", "")) {
            DatabaseMetaData meta = c.getMetaData();
            List<String> catalogs = new ArrayList<>();
            try (ResultSet rs = meta.getCatalogs()) {
                while (rs.next()) catalogs.add(rs.getString(1));
            }
            check(catalogs.contains("jdbc"), "catalogs: " + catalogs);
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = meta.getTables("jdbc", null, "%", null)) {
                while (rs.next()) tables.add(rs.getString("TABLE_NAME"));
            }
            check(tables.equals(List.of("t")), "tables: " + tables);
            List<String> columns = new ArrayList<>();
            try (ResultSet rs = meta.getColumns("jdbc", null, "t", "%")) {
                while (rs.next()) columns.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME"));
            }
            check(columns.size() == 3 && columns.get(0).startsWith("id:"), "columns: " + columns);
            try (PreparedStatement p = c.prepareStatement("SELECT id, amount, name FROM t WHERE id = ?")) {
                p.setInt(1, 1);
                try (ResultSet rs = p.executeQuery()) {
                    check(rs.next(), "a row");
                    check(rs.getBigDecimal("amount").compareTo(new java.math.BigDecimal("12.50")) == 0, "amount");
                    check(rs.getMetaData().getScale(2) == 2, "scale " + rs.getMetaData().getScale(2));
                    check("a".equals(rs.getString(3)), "name");
                }
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO t VALUES (3, 1.00, 'c')");
            }
            c.commit();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELEC 1");
                check(false, "a syntax error was accepted");
            } catch (SQLException e) {
                check(e.getErrorCode() == 1064, "syntax error code " + e.getErrorCode() + ": " + e.getMessage());
            }
        }
        try {
            DriverManager.getConnection(base, "root", "wrong").close();
            check(false, "a wrong password was accepted");
        } catch (SQLException e) {
            check(e.getErrorCode() == 1045, "login error code " + e.getErrorCode());
        }
        System.out.println("jdbc checks passed");
    }
}
